//! A column aligner that lays text out exactly as Go's `text/tabwriter` does with the settings
//! calicoctl uses (minimum cell width 5, padding 3, pad character ' ', no flags).
//!
//! Input is text whose cells are *terminated* by `\t` and whose lines end with `\n`. A column
//! block is a run of consecutive lines that all have a tab-terminated cell in that column; every
//! cell of the block is padded to the block's width (the widest cell plus the padding, at least
//! the minimum width). The text after a line's last tab is not part of any column and is written
//! as is. Calicoctl terminates every cell, the last one included, so table lines carry trailing
//! spaces, like Calico's.

/// Go's `tabwriter.NewWriter(w, 5, 1, 3, ' ', 0)`.
#[derive(Clone, Copy, Debug)]
pub struct TabWriter {
    pub min_width: usize,
    pub padding: usize,
}

impl Default for TabWriter {
    fn default() -> Self {
        Self {
            min_width: 5,
            padding: 3,
        }
    }
}

struct Cell<'a> {
    text: &'a str,
    width: usize,
}

struct Formatter<'a> {
    cfg: TabWriter,
    lines: Vec<Vec<Cell<'a>>>,
    widths: Vec<usize>,
    out: String,
}

impl TabWriter {
    /// Align `text`.
    pub fn align(self, text: &str) -> String {
        let lines: Vec<Vec<Cell<'_>>> = text
            .split('\n')
            .map(|line| {
                line.split('\t')
                    .map(|t| Cell {
                        text: t,
                        width: t.chars().count(),
                    })
                    .collect()
            })
            .collect();
        let n = lines.len();
        let mut f = Formatter {
            cfg: self,
            lines,
            widths: Vec::new(),
            out: String::with_capacity(text.len() * 2),
        };
        f.format(0, n);
        f.out
    }
}

impl Formatter<'_> {
    /// Number of tab-terminated cells of a line (the last cell is the unterminated rest).
    fn terminated(&self, line: usize) -> usize {
        self.lines[line].len().saturating_sub(1)
    }

    fn format(&mut self, line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut start = line0;
        let mut this = line0;
        while this < line1 {
            if column >= self.terminated(this) {
                this += 1;
                continue;
            }
            // A column block begins here: print what precedes it, then size it.
            self.write_lines(start, this);
            start = this;
            let mut width = self.cfg.min_width;
            while this < line1 && column < self.terminated(this) {
                width = width.max(self.lines[this][column].width + self.cfg.padding);
                this += 1;
            }
            self.widths.push(width);
            self.format(start, this);
            self.widths.pop();
            start = this;
        }
        self.write_lines(start, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                self.out.push_str(cell.text);
                if let Some(w) = self.widths.get(j) {
                    let pad = w.saturating_sub(cell.width);
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            // The last line is what follows the final newline: it gets none.
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn align(s: &str) -> String {
        TabWriter::default().align(s)
    }

    #[test]
    fn every_terminated_cell_is_padded() {
        let got = align("NAME\tCIDR\tSELECTOR\t\npool-a\t10.0.0.0/16\tall()\t\n");
        assert_eq!(
            got,
            "NAME     CIDR          SELECTOR   \npool-a   10.0.0.0/16   all()      \n"
        );
    }

    #[test]
    fn minimum_width_applies() {
        assert_eq!(align("A\tB\t\nx\ty\t\n"), "A    B    \nx    y    \n");
    }

    #[test]
    fn unterminated_text_is_written_as_is() {
        assert_eq!(align("a\tb\nlonger\tc"), "a        b\nlonger   c");
    }

    #[test]
    fn blocks_end_at_lines_without_the_column() {
        // The middle line has no tab, so the first and last lines size their columns apart.
        assert_eq!(
            align("a\tb\t\nplain\nlonger-cell\tc\t\n"),
            "a    b    \nplain\nlonger-cell   c    \n"
        );
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        assert_eq!(align("é\tx\t\n"), "é    x    \n");
    }

    #[test]
    fn empty_input() {
        assert_eq!(align(""), "");
    }
}
