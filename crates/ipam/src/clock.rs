//! Time as an input. The engine asks a [`Clock`] for "now" (block creation sequence numbers,
//! affinity claim times, the age check before reclaiming another host's empty block); adapters
//! pass the system clock, tests a [`ManualClock`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// A clock that only moves when told to. Clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::at(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    }
}

impl ManualClock {
    pub fn at(t: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(t)),
        }
    }

    pub fn advance(&self, d: Duration) {
        let mut t = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
