//! Recursive-descent parser.
//!
//! ```text
//! selector  := <nothing> | or_expr EOF            (nothing means all())
//! or_expr   := and_expr ( "||" and_expr )*
//! and_expr  := operation ( "&&" operation )*
//! operation := "!"* ( has(label) | all() | global() | "(" or_expr ")"
//!                   | label ("==" | "!=" | "contains" | "starts with" | "ends with") STRING
//!                   | label ("in" | "not in") "{" [ STRING ("," STRING)* [","] ] "}" )
//! ```
//!
//! Leading `!`s collapse to their parity; one-element `&&` / `||` lists are unwrapped.

use std::collections::BTreeSet;

use crate::MAX_NESTING;
use crate::ast::{CmpOp, Node, SetOp};
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Tok, Token, tokenize};

/// Parses a selector expression.
pub(crate) fn parse(input: &str) -> Result<Node, ParseError> {
    let tokens = tokenize(input)?;
    let mut p = Parser {
        input,
        tokens,
        next: 0,
        depth: 0,
    };
    if p.peek() == Tok::Eof {
        return Ok(Node::All);
    }
    let node = p.or_expr()?;
    match p.peek() {
        Tok::Eof => Ok(node),
        _ => Err(p.expected("\"&&\", \"||\" or the end of the selector")),
    }
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token<'a>>,
    next: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn current(&self) -> Token<'a> {
        // The token list always ends with Eof and the parser never moves past it.
        self.tokens
            .get(self.next)
            .or(self.tokens.last())
            .copied()
            .unwrap_or(Token {
                tok: Tok::Eof,
                pos: self.input.len(),
            })
    }

    fn peek(&self) -> Tok<'a> {
        self.current().tok
    }

    fn bump(&mut self) -> Tok<'a> {
        let tok = self.peek();
        if tok != Tok::Eof {
            self.next += 1;
        }
        tok
    }

    fn expected(&self, expected: &'static str) -> ParseError {
        let cur = self.current();
        let found = cur.tok.describe();
        ParseError::new(
            self.input,
            cur.pos,
            ParseErrorKind::Expected { expected, found },
        )
    }

    fn or_expr(&mut self) -> Result<Node, ParseError> {
        let mut operands = vec![self.and_expr()?];
        while self.peek() == Tok::Or {
            self.bump();
            operands.push(self.and_expr()?);
        }
        Ok(Node::or(operands))
    }

    fn and_expr(&mut self) -> Result<Node, ParseError> {
        let mut operands = vec![self.operation()?];
        while self.peek() == Tok::And {
            self.bump();
            operands.push(self.operation()?);
        }
        Ok(Node::and(operands))
    }

    fn operation(&mut self) -> Result<Node, ParseError> {
        let mut negated = false;
        while self.peek() == Tok::Not {
            self.bump();
            negated = !negated;
        }
        let node = match self.peek() {
            Tok::Has(label) => {
                self.bump();
                Node::Has(label.to_owned())
            }
            Tok::All => {
                self.bump();
                Node::All
            }
            Tok::Global => {
                self.bump();
                Node::Global
            }
            Tok::LParen => self.parenthesised()?,
            Tok::Label(label) => {
                self.bump();
                self.comparison(label)?
            }
            _ => {
                return Err(self.expected("a label, has(), all(), global(), '!' or '('"));
            }
        };
        Ok(if negated { Node::negate(node) } else { node })
    }

    fn parenthesised(&mut self) -> Result<Node, ParseError> {
        if self.depth >= MAX_NESTING {
            let pos = self.current().pos;
            return Err(ParseError::new(
                self.input,
                pos,
                ParseErrorKind::TooDeep { max: MAX_NESTING },
            ));
        }
        self.bump();
        self.depth += 1;
        let inner = self.or_expr()?;
        self.depth -= 1;
        if self.peek() != Tok::RParen {
            return Err(self.expected("')'"));
        }
        self.bump();
        Ok(inner)
    }

    /// What follows a label: a comparison with a string or a set.
    fn comparison(&mut self, label: &str) -> Result<Node, ParseError> {
        let op = match self.peek() {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Contains => CmpOp::Contains,
            Tok::StartsWith => CmpOp::StartsWith,
            Tok::EndsWith => CmpOp::EndsWith,
            Tok::In => return self.set(label, SetOp::In),
            Tok::NotIn => return self.set(label, SetOp::NotIn),
            _ => return Err(self.expected("an operator (==, !=, in, not in, contains, ...)")),
        };
        self.bump();
        match self.peek() {
            Tok::Str(value) => {
                self.bump();
                Ok(Node::cmp(label, op, value))
            }
            _ => Err(self.expected("a quoted string")),
        }
    }

    fn set(&mut self, label: &str, op: SetOp) -> Result<Node, ParseError> {
        self.bump();
        if self.peek() != Tok::LBrace {
            return Err(self.expected("a set literal such as {\"a\", \"b\"}"));
        }
        self.bump();
        let mut values = BTreeSet::new();
        loop {
            match self.peek() {
                Tok::RBrace => break,
                Tok::Str(v) => {
                    self.bump();
                    values.insert(v.to_owned());
                    match self.peek() {
                        Tok::Comma => {
                            self.bump();
                        }
                        Tok::RBrace => break,
                        _ => return Err(self.expected("',' or '}'")),
                    }
                }
                _ => return Err(self.expected("a quoted string or '}'")),
            }
        }
        self.bump();
        Ok(Node::Set {
            label: label.to_owned(),
            op,
            values,
        })
    }
}
