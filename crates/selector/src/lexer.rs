//! Tokenizer.
//!
//! Calico's rules: only space and tab are whitespace; label names are `[a-zA-Z0-9_./-]{1,512}`;
//! string literals are `"..."` or `'...'` with no escapes; the word operators (`contains`,
//! `starts with`, `ends with`, `not in`, `in`) are recognised only right after a label and must
//! end at a word boundary; `has(`, `all(` and `global(` are recognised anywhere else.
//!
//! Every offset the lexer produces is on a character boundary: it only ever steps over ASCII
//! bytes, or to the position of an ASCII quote.

use crate::MAX_LABEL_LEN;
use crate::error::{ParseError, ParseErrorKind};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Label(&'a str),
    Str(&'a str),
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    Not,
    And,
    Or,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Has(&'a str),
    All,
    Global,
    Eof,
}

impl Tok<'_> {
    /// How the token is named in "found ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Label(l) => format!("label {l:?}"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::Comma => "','".into(),
            Tok::Eq => "\"==\"".into(),
            Tok::Ne => "\"!=\"".into(),
            Tok::Not => "'!'".into(),
            Tok::And => "\"&&\"".into(),
            Tok::Or => "\"||\"".into(),
            Tok::In => "\"in\"".into(),
            Tok::NotIn => "\"not in\"".into(),
            Tok::Contains => "\"contains\"".into(),
            Tok::StartsWith => "\"starts with\"".into(),
            Tok::EndsWith => "\"ends with\"".into(),
            Tok::Has(l) => format!("has({l})"),
            Tok::All => "all()".into(),
            Tok::Global => "global()".into(),
            Tok::Eof => "end of selector".into(),
        }
    }
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub pos: usize,
}

/// Whether `b` may appear in a label name.
pub(crate) fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

/// Whether `s` is a valid label name on its own: 1 to [`MAX_LABEL_LEN`] label characters.
#[must_use]
pub fn is_valid_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_LABEL_LEN && s.bytes().all(is_label_byte)
}

/// Splits `input` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut lx = Lexer { input, pos: 0 };
    let mut tokens: Vec<Token<'_>> = Vec::new();
    loop {
        lx.skip_ws();
        let pos = lx.pos;
        let last_label = match tokens.last() {
            Some(Token {
                tok: Tok::Label(l), ..
            }) => Some(*l),
            _ => None,
        };
        let tok = lx.next_token(last_label)?;
        tokens.push(Token { tok, pos });
        if tok == Tok::Eof {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn err(&self, at: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.input, at, kind)
    }

    fn skip_ws(&mut self) {
        let skipped = self
            .rest()
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        self.pos += skipped;
    }

    /// Consumes `word` if the input continues with it.
    fn eat(&mut self, word: &str) -> bool {
        if self.rest().starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn at_word_boundary(&self) -> bool {
        self.rest().bytes().next().is_none_or(|b| !is_label_byte(b))
    }

    /// Consumes a word operator made of `words`, allowing any spaces (or none) between the words
    /// and requiring a word boundary after the last one. Leaves the input untouched otherwise.
    fn eat_operator(&mut self, words: &[&str]) -> bool {
        let start = self.pos;
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                self.skip_ws();
            }
            if !self.eat(word) {
                self.pos = start;
                return false;
            }
        }
        if self.at_word_boundary() {
            true
        } else {
            self.pos = start;
            false
        }
    }

    fn label(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        let rest = self.rest();
        let len = rest.bytes().take_while(|&b| is_label_byte(b)).count();
        if len > MAX_LABEL_LEN {
            return Err(self.err(start, ParseErrorKind::LabelTooLong { len }));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn string(&mut self, quote: char) -> Result<Tok<'a>, ParseError> {
        let open = self.pos;
        let body = &self.input[open + 1..];
        match body.find(quote) {
            Some(end) => {
                self.pos = open + 1 + end + 1;
                Ok(Tok::Str(&body[..end]))
            }
            None => Err(self.err(open, ParseErrorKind::UnterminatedString(quote))),
        }
    }

    /// `all(`, `global(` (already consumed): optional spaces then `)`.
    fn close_call(&mut self, func: &'static str, tok: Tok<'a>) -> Result<Tok<'a>, ParseError> {
        self.skip_ws();
        if self.eat(")") {
            Ok(tok)
        } else {
            Err(self.err(self.pos, ParseErrorKind::UnclosedCall { func }))
        }
    }

    /// The next token; `last_label` is set when the previous token was a label, which is the
    /// only place word operators are recognised.
    fn next_token(&mut self, last_label: Option<&'a str>) -> Result<Tok<'a>, ParseError> {
        let start = self.pos;
        let Some(&first) = self.rest().as_bytes().first() else {
            return Ok(Tok::Eof);
        };
        let single = |lx: &mut Self, tok| {
            lx.pos += 1;
            Ok(tok)
        };
        let double = |lx: &mut Self, pair: &str, tok, kind| {
            if lx.eat(pair) {
                Ok(tok)
            } else {
                Err(lx.err(start, kind))
            }
        };
        match first {
            b'(' => single(self, Tok::LParen),
            b')' => single(self, Tok::RParen),
            b'{' => single(self, Tok::LBrace),
            b'}' => single(self, Tok::RBrace),
            b',' => single(self, Tok::Comma),
            b'"' => self.string('"'),
            b'\'' => self.string('\''),
            b'=' => double(self, "==", Tok::Eq, ParseErrorKind::LoneEquals),
            b'&' => double(self, "&&", Tok::And, ParseErrorKind::LoneAmpersand),
            b'|' => double(self, "||", Tok::Or, ParseErrorKind::LonePipe),
            b'!' => {
                if self.eat("!=") {
                    Ok(Tok::Ne)
                } else {
                    single(self, Tok::Not)
                }
            }
            _ => match last_label {
                Some(label) => self.operator(label),
                None => self.word(start),
            },
        }
    }

    /// `has(label)`, `all()`, `global()` or a label.
    fn word(&mut self, start: usize) -> Result<Tok<'a>, ParseError> {
        if self.eat("has(") {
            self.skip_ws();
            let label_at = self.pos;
            let label = self.label()?;
            if label.is_empty() {
                return Err(self.err(label_at, ParseErrorKind::ExpectedHasLabel));
            }
            self.skip_ws();
            if self.eat(")") {
                Ok(Tok::Has(label))
            } else {
                Err(self.err(self.pos, ParseErrorKind::UnclosedCall { func: "has" }))
            }
        } else if self.eat("all(") {
            self.close_call("all", Tok::All)
        } else if self.eat("global(") {
            self.close_call("global", Tok::Global)
        } else {
            let label = self.label()?;
            if label.is_empty() {
                let c = self.rest().chars().next().unwrap_or('\0');
                Err(self.err(start, ParseErrorKind::UnexpectedChar(c)))
            } else {
                Ok(Tok::Label(label))
            }
        }
    }

    /// The word operator that must follow a label.
    fn operator(&mut self, label: &str) -> Result<Tok<'a>, ParseError> {
        if self.eat_operator(&["contains"]) {
            Ok(Tok::Contains)
        } else if self.eat_operator(&["starts", "with"]) {
            Ok(Tok::StartsWith)
        } else if self.eat_operator(&["ends", "with"]) {
            Ok(Tok::EndsWith)
        } else if self.eat_operator(&["not", "in"]) {
            Ok(Tok::NotIn)
        } else if self.eat_operator(&["in"]) {
            Ok(Tok::In)
        } else {
            match self.rest().chars().next() {
                // A newline or other whitespace: say so rather than "expected an operator".
                Some(c) if c.is_whitespace() => {
                    Err(self.err(self.pos, ParseErrorKind::UnexpectedChar(c)))
                }
                _ => {
                    let label = label.to_owned();
                    Err(self.err(self.pos, ParseErrorKind::ExpectedOperator { label }))
                }
            }
        }
    }
}
