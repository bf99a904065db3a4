//! Query fingerprints: a single-pass tokenizer that turns one statement text into a
//! stable 64-bit id and a normalized text.
//!
//! This runs once per logged event, so it must stay cheap: no SQL parse, no regex, and
//! no allocation beyond the reusable buffers in [`Normalizer`]. The semantics follow
//! pg_query's fingerprints where they matter to users: literals and parameters are
//! equal, IN / VALUES / ARRAY lists of any length are equal, comments, whitespace and
//! the case of unquoted words do not matter. The spec is the set of equality tests in
//! `tests/fingerprint.rs`.

use std::fmt::{self, Write as _};

use serde::{Serialize, Serializer};

/// A statement's identity, shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(Fingerprint)
    }
}

/// Fingerprints of statement texts already seen, by the hash of the exact text, in two
/// generations: when the young one is full, the old one is dropped and the young one
/// becomes old; a hit in the old one moves back to the young one. Texts that repeat
/// (prepared statements) stay, texts with inlined values (which rarely repeat) pass
/// through, and memory does not grow with the log.
pub struct TextCache<V = Fingerprint> {
    young: rustc_hash::FxHashMap<u64, V>,
    old: rustc_hash::FxHashMap<u64, V>,
    cap: usize,
}

impl<V: Clone> TextCache<V> {
    /// `cap` texts per generation.
    pub fn new(cap: usize) -> Self {
        TextCache {
            young: Default::default(),
            old: Default::default(),
            cap,
        }
    }

    pub fn get(&mut self, hash: u64) -> Option<V> {
        if let Some(v) = self.young.get(&hash) {
            return Some(v.clone());
        }
        let v = self.old.remove(&hash)?;
        self.insert(hash, v.clone());
        Some(v)
    }

    pub fn insert(&mut self, hash: u64, v: V) {
        if self.young.len() >= self.cap {
            // Reuse the old generation's table for the new young one.
            std::mem::swap(&mut self.young, &mut self.old);
            self.young.clear();
        }
        self.young.insert(hash, v);
    }
}

/// How placeholders are written in the normalized text. The hash never depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `$1`, `$2`, … numbered in order of appearance (PostgreSQL).
    Dollar,
    /// `?` (MySQL).
    Question,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An unquoted word: keyword or identifier; hashed lowercased.
    Word,
    /// A quoted identifier kept as written.
    Ident,
    /// A literal or a parameter: hashed as one constant.
    Value,
    /// Operator or punctuation character(s).
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    space_before: bool,
}

/// Reusable state for normalizing many statements without allocating per statement.
#[derive(Default)]
pub struct Normalizer {
    tokens: Vec<Token>,
    keep: Vec<bool>,
    key: Vec<u8>,
    /// The streaming path's candidate VALUES row and tokens to read again.
    pending: Vec<Token>,
    replay: std::collections::VecDeque<Token>,
    /// Byte ranges of VALUES rows that `normalize` cuts out.
    dropped: Vec<(usize, usize)>,
}

/// Where the streaming fingerprint is in a VALUES list.
#[derive(Clone, Copy)]
enum Rows {
    Off,
    /// Just after the word VALUES.
    AfterValues,
    /// Inside the first row, at this bracket depth.
    First {
        depth: usize,
    },
    /// After a row that ended at byte `end`.
    AfterRow {
        end: usize,
    },
    /// Inside a row that may repeat the first one's shape: its comma came after byte
    /// `from`, `at` tokens of the shape have matched, at this bracket depth.
    Candidate {
        from: usize,
        at: usize,
        depth: usize,
    },
}

/// The streaming fingerprint's per-token work on the key: an IN / ANY / ARRAY list cut
/// back once its closing bracket shows it flat, a trailing run of `;` dropped.
#[derive(Default)]
struct Emit {
    /// An open list: where its key began (after the bracket), the closing byte, and
    /// whether a value was seen.
    list: Option<(usize, u8, bool)>,
    /// Where the trailing run of `;` began in the key.
    semis: Option<usize>,
    /// The token before (a list opens after `IN`, `ANY`, `ARRAY`).
    prev: Option<Token>,
}

impl Emit {
    #[inline(always)]
    fn token(&mut self, key: &mut Vec<u8>, sql: &str, t: Token, mysql: bool) {
        let b = sql.as_bytes();
        let text = &b[t.start..t.end];
        if let Some((at, close, seen)) = &mut self.list {
            if t.kind == Kind::Value {
                *seen = true;
            } else if t.kind == Kind::Punct && text.len() == 1 && text[0] == *close {
                key.truncate(*at);
                if *seen {
                    key.extend_from_slice(b"? ");
                }
                self.list = None;
            } else if !(t.kind == Kind::Punct && (text == b"," || text == b"-")) {
                self.list = None;
            }
        }
        let at = key.len();
        push_key(key, sql, &t, mysql);
        if t.kind == Kind::Punct && text == b";" {
            self.semis.get_or_insert(at);
        } else {
            self.semis = None;
        }
        if t.kind == Kind::Punct
            && let Some(p) = &self.prev
            && ((text == b"(" && (is_word(b, p, "in") || is_word(b, p, "any")))
                || (text == b"[" && is_word(b, p, "array")))
        {
            self.list = Some((key.len(), if text == b"(" { b')' } else { b']' }, false));
        }
        self.prev = Some(t);
    }

    fn finish(&self, key: &mut Vec<u8>) -> Fingerprint {
        if let Some(at) = self.semis {
            key.truncate(at);
        }
        Fingerprint(xxhash_rust::xxh3::xxh3_64(key))
    }
}

/// The bracket depth after a token.
fn bracket_depth(depth: usize, text: &[u8], kind: Kind) -> usize {
    match (kind, text) {
        (Kind::Punct, b"(") => depth + 1,
        (Kind::Punct, b")") => depth.saturating_sub(1),
        _ => depth,
    }
}

impl Normalizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The fingerprint of `sql`. `mysql` selects MySQL lexing (double quotes delimit
    /// strings, backslash escapes in strings).
    pub fn fingerprint(&mut self, sql: &str, mysql: bool) -> Fingerprint {
        match self.fingerprint_streaming(sql, mysql) {
            Some(fp) => fp,
            None => self.fingerprint_tokens(sql, mysql),
        }
    }

    /// [`Self::fingerprint`] in one pass without a token list: the key is written as the
    /// tokens come, an IN / ANY / ARRAY list is cut back to one placeholder when its
    /// closing bracket shows it was flat, and a VALUES row shaped like the first row is
    /// left out once its closing bracket shows it matched (a row that does not match is
    /// written after all). Memory is the first row and one row: a bulk INSERT of a
    /// million rows costs no more than one of ten. Statements with VALUES inside a row
    /// return None and take the token-list path. Equal to [`Self::fingerprint_tokens`]
    /// by test; this is the per-event hot path.
    fn fingerprint_streaming(&mut self, sql: &str, mysql: bool) -> Option<Fingerprint> {
        self.stream(sql, mysql, None)
    }

    /// [`Self::fingerprint_streaming`]; `dropped` collects the byte ranges of the rows it
    /// left out (each from the end of the row before it to its own end, merged).
    fn stream(
        &mut self,
        sql: &str,
        mysql: bool,
        mut dropped: Option<&mut Vec<(usize, usize)>>,
    ) -> Option<Fingerprint> {
        let b = sql.as_bytes();
        let key = &mut self.key;
        key.clear();
        let mut e = Emit::default();
        let mut i = 0;
        // Most statements have no VALUES: one token at a time into the key, the last
        // token both the lexer's context and the list opener's.
        let mut lexed = loop {
            let Some((t, next)) = next_token(b, i, mysql, e.prev.as_ref()) else {
                return Some(e.finish(key));
            };
            i = next;
            e.token(key, sql, t, mysql);
            if is_word(b, &t, "values") {
                break Some(t);
            }
        };
        // The first VALUES row's tokens, the candidate row's tokens (from its comma), and
        // tokens to go through again after a candidate turned out different.
        let shape = &mut self.tokens;
        shape.clear();
        let pending = &mut self.pending;
        pending.clear();
        let replay = &mut self.replay;
        replay.clear();
        let mut rows = Rows::AfterValues;
        // From here the lexer's context (the last token read from the text) and the
        // last token taken in order differ while a candidate row is read again.
        let mut prev_before_pending: Option<Token> = None;
        loop {
            let t = match replay.pop_front() {
                Some(t) => t,
                None => match next_token(b, i, mysql, lexed.as_ref()) {
                    Some((t, next)) => {
                        i = next;
                        lexed = Some(t);
                        t
                    }
                    None => {
                        if pending.is_empty() {
                            break;
                        }
                        // The text ended inside a candidate row: it is written as is.
                        rows = Rows::Off;
                        e.prev = prev_before_pending;
                        replay.extend(pending.drain(..));
                        continue;
                    }
                },
            };
            let text = &b[t.start..t.end];
            let values = is_word(b, &t, "values");
            let punct = |p: &[u8]| t.kind == Kind::Punct && text == p;
            match rows {
                Rows::Off => {}
                Rows::AfterValues => {
                    rows = Rows::Off;
                    if punct(b"(") {
                        shape.push(t);
                        rows = Rows::First { depth: 1 };
                    }
                }
                Rows::First { .. } | Rows::Candidate { .. } if values => return None,
                Rows::First { depth } => {
                    shape.push(t);
                    let depth = bracket_depth(depth, text, t.kind);
                    rows = if depth == 0 {
                        Rows::AfterRow { end: t.end }
                    } else {
                        Rows::First { depth }
                    };
                }
                Rows::AfterRow { end } => {
                    rows = Rows::Off;
                    if punct(b",") {
                        prev_before_pending = e.prev;
                        pending.push(t);
                        e.prev = Some(t);
                        rows = Rows::Candidate {
                            from: end,
                            at: 0,
                            depth: 0,
                        };
                        continue;
                    }
                }
                Rows::Candidate { from, at, depth } => {
                    pending.push(t);
                    e.prev = Some(t);
                    let same = shape.get(at).is_some_and(|s| {
                        s.kind == t.kind
                            && (t.kind == Kind::Value
                                || b[s.start..s.end].eq_ignore_ascii_case(text))
                    });
                    if same {
                        let depth = bracket_depth(depth, text, t.kind);
                        if depth == 0 {
                            // The whole row matched the first one: left out.
                            pending.clear();
                            if let Some(d) = dropped.as_deref_mut() {
                                match d.last_mut() {
                                    Some(last) if last.1 == from => last.1 = t.end,
                                    _ => d.push((from, t.end)),
                                }
                            }
                            rows = Rows::AfterRow { end: t.end };
                        } else {
                            rows = Rows::Candidate {
                                from,
                                at: at + 1,
                                depth,
                            };
                        }
                        continue;
                    }
                    // Not the first row's shape: this row and all after it are written.
                    rows = Rows::Off;
                    e.prev = prev_before_pending;
                    for p in pending.drain(..).rev() {
                        replay.push_front(p);
                    }
                    continue;
                }
            }
            e.token(key, sql, t, mysql);
            if values {
                rows = Rows::AfterValues;
            }
        }
        Some(e.finish(key))
    }

    /// The fingerprint through the token list (also what [`Self::normalize`] prints).
    fn fingerprint_tokens(&mut self, sql: &str, mysql: bool) -> Fingerprint {
        self.prepare(sql, mysql);
        self.key.clear();
        for (t, keep) in self.tokens.iter().zip(&self.keep) {
            if *keep {
                push_key(&mut self.key, sql, t, mysql);
            }
        }
        Fingerprint(xxhash_rust::xxh3::xxh3_64(&self.key))
    }

    /// The fingerprint and the normalized text (whitespace collapsed, comments dropped,
    /// values replaced by placeholders, lists collapsed, original case kept).
    pub fn normalize(&mut self, sql: &str, mysql: bool, style: Style) -> (Fingerprint, String) {
        // A bulk INSERT: the token list costs 32 bytes a token (a 50 MB statement took
        // 500 MB), so the rows that normalize away are cut out of the text first. The
        // rows left are the first one and whatever followed the last repeat, as the
        // token list would have left them.
        if sql.len() > 64 << 10 {
            let mut dropped = std::mem::take(&mut self.dropped);
            dropped.clear();
            let streamed = self.stream(sql, mysql, Some(&mut dropped));
            if streamed.is_some() && !dropped.is_empty() {
                let mut reduced = String::with_capacity(sql.len().min(1 << 20));
                let mut at = 0;
                for &(from, to) in &dropped {
                    reduced.push_str(&sql[at..from]);
                    at = to;
                }
                reduced.push_str(&sql[at..]);
                self.dropped = dropped;
                let out = self.normalize_all(&reduced, mysql, style);
                debug_assert_eq!(Some(out.0), streamed);
                return out;
            }
            self.dropped = dropped;
        }
        self.normalize_all(sql, mysql, style)
    }

    fn normalize_all(&mut self, sql: &str, mysql: bool, style: Style) -> (Fingerprint, String) {
        let fp = self.fingerprint_tokens(sql, mysql);
        let b = sql.as_bytes();
        let mut out = String::with_capacity(sql.len().min(4096));
        let mut n = 0;
        let mut first = true;
        for (t, keep) in self.tokens.iter().zip(&self.keep) {
            if !keep {
                continue;
            }
            if t.space_before && !first {
                out.push(' ');
            }
            first = false;
            match t.kind {
                Kind::Value => {
                    n += 1;
                    match style {
                        Style::Dollar => {
                            let _ = write!(out, "${n}");
                        }
                        Style::Question => out.push('?'),
                    }
                }
                Kind::Ident => {
                    // Quoted identifiers keep their quotes unless they are plain lower-case
                    // names, which PostgreSQL treats as equal to the unquoted form.
                    let inner = &sql[t.start..t.end];
                    if is_plain_lower_ident(inner) {
                        out.push_str(inner);
                    } else if mysql {
                        out.push('`');
                        out.push_str(inner);
                        out.push('`');
                    } else {
                        out.push('"');
                        out.push_str(inner);
                        out.push('"');
                    }
                }
                _ => out.push_str(&String::from_utf8_lossy(&b[t.start..t.end])),
            }
        }
        (fp, out)
    }

    fn prepare(&mut self, sql: &str, mysql: bool) {
        self.tokens.clear();
        tokenize(sql.as_bytes(), mysql, &mut self.tokens);
        // A trailing semicolon does not change the statement.
        while let Some(t) = self.tokens.last() {
            if t.kind == Kind::Punct && &sql.as_bytes()[t.start..t.end] == b";" {
                self.tokens.pop();
            } else {
                break;
            }
        }
        self.keep.clear();
        self.keep.resize(self.tokens.len(), true);
        collapse_lists(sql.as_bytes(), &self.tokens, &mut self.keep);
    }
}

/// Appends a kept token's part of the fingerprint key (both fingerprint paths).
#[inline(always)]
fn push_key(key: &mut Vec<u8>, sql: &str, t: &Token, mysql: bool) {
    let text = &sql.as_bytes()[t.start..t.end];
    // Tokens are a few bytes: copied (and lowercased) by a loop rather than a memcpy
    // call each.
    match t.kind {
        Kind::Word => push_lower(key, &sql.as_bytes()[t.start..], text.len()),
        Kind::Ident => {
            // `"users"` is `users` in PostgreSQL; MySQL's backquotes never change
            // meaning. Other quoted names stay case-sensitive.
            if mysql || is_plain_lower_ident(&sql[t.start..t.end]) {
                key.extend(text.iter().map(u8::to_ascii_lowercase));
            } else {
                key.push(b'"');
                key.extend(text.iter().copied());
            }
        }
        Kind::Value => key.push(b'?'),
        Kind::Punct => key.extend(text.iter().copied()),
    }
    key.push(b' ');
}

fn is_plain_lower_ident(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Byte classes as a table: the tokenizer tests every byte of every statement.
const WORD_START: u8 = 1;
const WORD_CHAR: u8 = 2;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            t[c] |= WORD_START | WORD_CHAR;
        }
        if b.is_ascii_digit() || b == b'$' {
            t[c] |= WORD_CHAR;
        }
        c += 1;
    }
    t
};

fn is_word_start(c: u8) -> bool {
    CLASS[c as usize] & WORD_START != 0
}

fn is_word_char(c: u8) -> bool {
    CLASS[c as usize] & WORD_CHAR != 0
}

/// The end of the run of word bytes from `i`. Sixteen bytes at a time while the text
/// has them: the byte loop's exit at the end of each word was the tokenizer's most
/// mispredicted branch, and a word rarely runs past one block.
#[inline(always)]
fn word_end(b: &[u8], mut i: usize) -> usize {
    while let Some(block) = b[i..].first_chunk::<16>() {
        let m = word_mask(block);
        if m != u16::MAX {
            return i + m.trailing_ones() as usize;
        }
        i += 16;
    }
    while i < b.len() && is_word_char(b[i]) {
        i += 1;
    }
    i
}

/// Appends the first `len` bytes of `from` lowercased. A word of up to 16 bytes with
/// 16 bytes of text behind its start is lowercased and stored as one block (the key is
/// then cut back to the word): no per-byte loop whose exit is mispredicted per word.
#[inline(always)]
fn push_lower(key: &mut Vec<u8>, from: &[u8], len: usize) {
    #[cfg(target_arch = "x86_64")]
    if len <= 16
        && let Some(block) = from.first_chunk::<16>()
    {
        use std::arch::x86_64::*;
        key.reserve(16);
        let at = key.len();
        // SAFETY: SSE2 is part of every x86_64 target; `block` is 16 readable bytes;
        // the key has room for 16 more bytes (reserved above), of which the first
        // `len` are initialized by the store before the length covers them.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            let upper = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(b'A' as i8 - 1)),
                _mm_cmpgt_epi8(_mm_set1_epi8(b'Z' as i8 + 1), v),
            );
            let lower = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
            _mm_storeu_si128(key.as_mut_ptr().add(at).cast(), lower);
            key.set_len(at + len);
        }
        return;
    }
    key.extend(from[..len].iter().map(u8::to_ascii_lowercase));
}

/// Bit k set when byte k is a word byte ([`is_word_char`]): a letter either case, a
/// digit, `_`, `$` or a byte of a multi-byte character.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn word_mask(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::*;
    let v = load16(block);
    // SAFETY: SSE2 is part of every x86_64 target.
    unsafe {
        let letter = lanes_between(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
        let sym = _mm_or_si128(lanes_equal(v, b'_'), lanes_equal(v, b'$'));
        // The sign bit of each byte: set by the compares, and by `v` itself for >= 0x80.
        let word = _mm_or_si128(
            _mm_or_si128(letter, lanes_between(v, b'0', b'9')),
            _mm_or_si128(sym, v),
        );
        _mm_movemask_epi8(word) as u16
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn load16(block: &[u8; 16]) -> std::arch::x86_64::__m128i {
    // SAFETY: SSE2 is part of every x86_64 target; `block` is 16 readable bytes and
    // loadu has no alignment requirement.
    unsafe { std::arch::x86_64::_mm_loadu_si128(block.as_ptr().cast()) }
}

/// All ones in the lanes of `v` from `lo` to `hi`. Signed compares: bytes >= 0x80 are
/// negative and fall outside every range.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_between(v: std::arch::x86_64::__m128i, lo: u8, hi: u8) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of every x86_64 target.
    unsafe {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
            _mm_cmpgt_epi8(_mm_set1_epi8(hi as i8 + 1), v),
        )
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_equal(v: std::arch::x86_64::__m128i, c: u8) -> std::arch::x86_64::__m128i {
    // SAFETY: SSE2 is part of every x86_64 target.
    unsafe { std::arch::x86_64::_mm_cmpeq_epi8(v, std::arch::x86_64::_mm_set1_epi8(c as i8)) }
}

/// Bit k set when `class` holds for byte k: what the SSE2 masks compute, byte by byte.
#[cfg(not(target_arch = "x86_64"))]
fn mask_by(block: &[u8; 16], class: fn(u8) -> bool) -> u16 {
    let mut m = 0u16;
    for (k, &c) in block.iter().enumerate() {
        m |= u16::from(class(c)) << k;
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn word_mask(block: &[u8; 16]) -> u16 {
    mask_by(block, is_word_char)
}

/// The hash of a statement's text with its literals (numbers, MySQL's and standard
/// strings) left out: texts with equal shape hashes differ at most in their literals'
/// contents, so they have the same fingerprint, and the shape finds a fingerprint again
/// for texts with inlined values (which `TextCache` never sees twice) at a fraction of
/// the tokenizer's cost (one pass for the few bytes that can begin a literal, quote or
/// comment; words are not split out).
///
/// The scan follows [`next_token`] wherever a literal can begin, and where it would have
/// to follow it further than that (a string with a prefix such as `E'` or `_utf8'`, a
/// number after `.`, MySQL's `/*!` and `#` after an operator) it gives up: None, and the
/// caller tokenizes. It also gives up where a `*` in a literal, quoted name or line
/// comment could make the text's `/* … */` comments (its tags) differ between texts of
/// one shape. `out` is scratch space.
pub fn shape_hash(sql: &str, mysql: bool, out: &mut Vec<u8>) -> Option<Shape> {
    // Literals are written as 0xFF: a byte no UTF-8 text has, so two texts' shapes are
    // equal only when their other bytes and their literals' places are.
    const LITERAL: u8 = 0xFF;
    let b = sql.as_bytes();
    let n = b.len();
    out.clear();
    // Text before `seg` is in `out`.
    let mut seg = 0;
    // Where the last number, `$n` or dollar quote ended: a word byte before it does not
    // make it part of a word.
    let mut boundary = usize::MAX;
    let mut i = 0;
    let no_star = |from: usize, to: usize| memchr::memchr(b'*', &b[from..to]).is_none();
    loop {
        i = next_shape_byte(b, i);
        if i >= n {
            break;
        }
        let c = b[i];
        let after_word = i > 0 && is_word_char(b[i - 1]);
        let literal_end = match c {
            b'0'..=b'9' => {
                if after_word && i != boundary {
                    // Inside a word (`line1`, `$1a2`).
                    i = word_end(b, i);
                    continue;
                }
                if i > 0 && b[i - 1] == b'.' {
                    // `.5` is one number to the tokenizer, `x.0x1` is `.0` and `x1`.
                    return None;
                }
                let end = skip_number(b, i);
                boundary = end;
                end
            }
            b'\'' => {
                if after_word || (i > 0 && b[i - 1] == b'&') {
                    return None;
                }
                let end = skip_quoted(b, i, b'\'', mysql);
                if !no_star(i, end) {
                    return None;
                }
                end
            }
            b'"' | b'`' => {
                let string = mysql && c == b'"';
                let end = skip_quoted(b, i, c, string);
                if !no_star(i, end) {
                    return None;
                }
                if !string {
                    // A quoted name: part of the shape.
                    i = end;
                    continue;
                }
                end
            }
            b'$' => {
                if after_word && i != boundary {
                    i = word_end(b, i);
                    continue;
                }
                if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    // `$1`: a parameter, the same in every call.
                    i += 1;
                    while i < n && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    boundary = i;
                } else if let Some(end) = dollar_quote_end(b, i) {
                    if !no_star(i, end) {
                        return None;
                    }
                    i = end;
                    boundary = end;
                } else {
                    i += 1;
                }
                continue;
            }
            b'-' | b'#' => {
                let line_comment = if c == b'-' {
                    b.get(i + 1) == Some(&b'-')
                } else if mysql {
                    // After an operator byte `#` continues the operator (`<#`).
                    if i > 0 && is_op_char(b[i - 1]) {
                        return None;
                    }
                    true
                } else {
                    false
                };
                if line_comment {
                    let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
                    if !no_star(i, end) {
                        return None;
                    }
                    i = end;
                } else {
                    i += 1;
                }
                continue;
            }
            b'/' => {
                if b.get(i + 1) != Some(&b'*') {
                    i += 1;
                    continue;
                }
                if mysql && b.get(i + 2) == Some(&b'!') {
                    return None;
                }
                let end = block_comment_end(b, i);
                // A trace id is new in every call: with it in the shape, traced texts
                // all missed the cache and were tokenized.
                let mut from = i;
                while let Some((start, stop)) = trace_id(b, i, from, end) {
                    out.extend_from_slice(&b[seg..start]);
                    out.push(LITERAL);
                    seg = stop;
                    from = stop;
                }
                i = end;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[seg..i]);
        out.push(LITERAL);
        seg = literal_end;
        i = literal_end;
    }
    out.extend_from_slice(&b[seg..]);
    Some(Shape {
        hash: xxhash_rust::xxh3::xxh3_64_with_seed(out, u64::from(mysql)),
        literals: seg != 0,
    })
}

/// The next W3C trace id (`traceparent='00-…-01'`, sqlcommenter's) at or after `from` in
/// the block comment `b[open..end]`: the bounds of its value inside the quotes. Only
/// where leaving the value out cannot change the text's tags (`tags::endpoint`): the
/// comment is closed and nests no other, the key begins an item (after the comment's
/// start or a comma), and the value is hex digits and dashes, so the items and keys
/// read from the comment are the same whatever the value, and the value is only ever
/// `traceparent`'s.
fn trace_id(b: &[u8], open: usize, from: usize, end: usize) -> Option<(usize, usize)> {
    const KEY: &[u8] = b"traceparent='";
    // Built once: a one-off search builds its searcher per call.
    static FIND_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    let body = b.get(open + 2..end)?;
    let mut at = from.max(open + 2);
    // The key first: most comments (marginalia, sqlcommenter without tracing) have none,
    // and then nothing else is read of them.
    let mut k = at + FIND_KEY.find(b.get(at..end)?)?;
    if !body.ends_with(b"*/") || crate::scan::find_bytes(body, b"/*").is_some() {
        return None;
    }
    loop {
        let before = b[open + 2..k].trim_ascii_end();
        let start = k + KEY.len();
        let len = b[start..end]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() || **c == b'-')
            .count();
        let closed = start + len < end && b[start + len] == b'\'';
        if (before.is_empty() || before.ends_with(b",")) && len > 0 && closed {
            return Some((start, start + len));
        }
        at = start;
        k = at + FIND_KEY.find(&b[at..end])?;
    }
}

/// A text's shape ([`shape_hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub hash: u64,
    /// Whether a literal was left out: without one the shape is the text itself.
    pub literals: bool,
}

/// The first byte from `i` that can begin a literal, quoted text or comment (a digit,
/// quote, `$`, `-`, `/` or `#`), or `b.len()`.
#[inline(always)]
fn next_shape_byte(b: &[u8], mut i: usize) -> usize {
    while let Some(block) = b.get(i..).and_then(|r| r.first_chunk::<16>()) {
        let m = shape_mask(block);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    while i < b.len() && !is_shape_byte(b[i]) {
        i += 1;
    }
    i
}

fn is_shape_byte(c: u8) -> bool {
    matches!(c, b'"'..=b'$' | b'\'' | b'-' | b'/'..=b'9' | b'`')
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn shape_mask(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::*;
    let v = load16(block);
    // SAFETY: SSE2 is part of every x86_64 target.
    unsafe {
        let m = _mm_or_si128(
            _mm_or_si128(lanes_between(v, b'"', b'$'), lanes_between(v, b'/', b'9')),
            _mm_or_si128(
                _mm_or_si128(lanes_equal(v, b'\''), lanes_equal(v, b'`')),
                lanes_equal(v, b'-'),
            ),
        );
        _mm_movemask_epi8(m) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn shape_mask(block: &[u8; 16]) -> u16 {
    mask_by(block, is_shape_byte)
}

/// Splits `b` into tokens. Never fails: an unterminated string or comment runs to the end.
fn tokenize(b: &[u8], mysql: bool, out: &mut Vec<Token>) {
    let mut i = 0;
    while let Some((t, next)) = next_token(b, i, mysql, out.last()) {
        out.push(t);
        i = next;
    }
}

/// The token after whitespace and comments from `i`, and where the scan goes on; `prev`
/// is the token before (a `-` after an operand is an operator, not a sign).
#[inline(always)]
fn next_token(b: &[u8], mut i: usize, mysql: bool, prev: Option<&Token>) -> Option<(Token, usize)> {
    let n = b.len();
    let mut space = false;
    while i < n {
        let c = b[i];
        if c.is_ascii_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        // Plain words first: they are most tokens, and no other branch starts with a
        // word byte. A word byte followed by a quote or `&` may open a prefixed string
        // and goes the long way.
        if is_word_start(c) && !matches!(b.get(i + 1), Some(b'\'' | b'&')) {
            let end = word_end(b, i + 1);
            if !(mysql && c == b'_' && b.get(end) == Some(&b'\'')) {
                let t = Token {
                    kind: Kind::Word,
                    start: i,
                    end,
                    space_before: space,
                };
                return Some((t, end));
            }
        }
        // Comments: dropped, but they separate tokens like whitespace does.
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
            space = true;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // MySQL executable comments (/*! ... */) carry SQL; keep their content.
            if mysql && b.get(i + 2) == Some(&b'!') {
                i += 3;
                while i < n && b[i].is_ascii_digit() {
                    i += 1;
                }
                space = true;
                continue;
            }
            i = block_comment_end(b, i);
            space = true;
            continue;
        }
        if mysql && c == b'*' && b.get(i + 1) == Some(&b'/') {
            // End of a MySQL executable comment.
            i += 2;
            space = true;
            continue;
        }
        if mysql && c == b'#' {
            i = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
            space = true;
            continue;
        }
        let start = i;
        let kind;
        let (mut ts, mut te) = (i, i);
        if c == b'\'' {
            i = skip_quoted(b, i, b'\'', mysql);
            kind = Kind::Value;
        } else if c == b'"' {
            if mysql {
                i = skip_quoted(b, i, b'"', true);
                kind = Kind::Value;
            } else {
                i = skip_quoted(b, i, b'"', false);
                kind = Kind::Ident;
                ts = start + 1;
                te = if i > start + 1 && b[i - 1] == b'"' {
                    i - 1
                } else {
                    i
                };
            }
        } else if c == b'`' {
            i = skip_quoted(b, i, b'`', false);
            kind = Kind::Ident;
            ts = start + 1;
            te = if i > start + 1 && b[i - 1] == b'`' {
                i - 1
            } else {
                i
            };
        } else if c == b'$' {
            if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < n && b[i].is_ascii_digit() {
                    i += 1;
                }
                kind = Kind::Value;
            } else if let Some(end) = dollar_quote_end(b, i) {
                i = end;
                kind = Kind::Value;
            } else {
                i += 1;
                kind = Kind::Punct;
            }
        } else if c == b'?' && !matches!(b.get(i + 1), Some(b'|') | Some(b'&') | Some(b'-')) {
            i += 1;
            kind = Kind::Value;
        } else if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            || (c == b'-' && negative_number_here(b, i, prev))
        {
            i = skip_number(b, i);
            kind = Kind::Value;
        } else if is_word_start(c) {
            // Prefixed string literals: E'..', B'..', X'..', N'..', U&'..'.
            let next = b.get(i + 1).copied();
            if next == Some(b'\'')
                && matches!(c, b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N')
            {
                let escapes = mysql || matches!(c, b'e' | b'E');
                i = skip_quoted(b, i + 1, b'\'', escapes);
                kind = Kind::Value;
            } else if matches!(c, b'u' | b'U') && next == Some(b'&') && b.get(i + 2) == Some(&b'\'')
            {
                i = skip_quoted(b, i + 2, b'\'', false);
                kind = Kind::Value;
            } else {
                i += 1;
                while i < n && is_word_char(b[i]) {
                    i += 1;
                }
                // `_utf8'abc'` charset introducers in MySQL.
                if mysql && c == b'_' && b.get(i) == Some(&b'\'') {
                    i = skip_quoted(b, i, b'\'', true);
                    kind = Kind::Value;
                } else {
                    kind = Kind::Word;
                }
            }
        } else {
            // Multi-byte operators stay one token so `a<=b` and `a <= b` are equal.
            i += 1;
            if is_op_char(c) {
                while i < n && is_op_char(b[i]) && !(b[i] == b'-' && b.get(i + 1) == Some(&b'-')) {
                    i += 1;
                }
            } else if c == b':' && b.get(i) == Some(&b':') {
                i += 1;
            }
            kind = Kind::Punct;
        }
        if kind != Kind::Ident {
            ts = start;
            te = i;
        }
        let t = Token {
            kind,
            start: ts,
            end: te.max(ts),
            space_before: space,
        };
        return Some((t, i));
    }
    None
}

/// The end of the `/* … */` comment that opens at `i` (comments nest, as in
/// PostgreSQL), or `b.len()`.
fn block_comment_end(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    let mut depth = 1;
    i += 2;
    while i < n && depth > 0 {
        // Comments run for dozens of bytes (sqlcommenter tags): jump between the bytes
        // that can open or close one.
        match memchr::memchr2(b'*', b'/', &b[i..]) {
            Some(k) => i += k,
            None => return n,
        }
        if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    i
}

fn is_op_char(c: u8) -> bool {
    matches!(
        c,
        b'<' | b'>' | b'=' | b'!' | b'|' | b'&' | b'~' | b'^' | b'%' | b'@' | b'#' | b'+' | b'-'
    )
}

/// A `-` starts a negative number when what precedes it cannot end an operand.
fn negative_number_here(b: &[u8], i: usize, prev: Option<&Token>) -> bool {
    if !b
        .get(i + 1)
        .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
    {
        return false;
    }
    match prev {
        None => true,
        Some(t) => match t.kind {
            Kind::Punct => !matches!(b[t.end - 1], b')' | b']'),
            Kind::Word => {
                let w = &b[t.start..t.end];
                [
                    "select", "where", "and", "or", "by", "values", "then", "else", "when",
                    "between", "set", "limit", "offset", "in", "is", "not", "return",
                ]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k.as_bytes()))
            }
            _ => false,
        },
    }
}

fn skip_number(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    if b[i] == b'-' {
        i += 1;
    }
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x') | Some(b'X')) {
        i += 2;
        while i < n && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < n && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
        i += 1;
    }
    if i < n && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < n && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < n && b[j].is_ascii_digit() {
            i = j;
            while i < n && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// Returns the index after the closing quote. A doubled quote is an escaped quote; with
/// `backslash`, `\x` escapes too.
fn skip_quoted(b: &[u8], start: usize, q: u8, backslash: bool) -> usize {
    let n = b.len();
    let mut i = start + 1;
    while i < n {
        // Strings run for dozens of bytes (dates, names): jump to the bytes that matter.
        let k = if backslash {
            memchr::memchr2(q, b'\\', &b[i..])
        } else {
            memchr::memchr(q, &b[i..])
        };
        let Some(k) = k else { return n };
        i += k;
        if b[i] != q {
            i += 2;
            continue;
        }
        if b.get(i + 1) == Some(&q) {
            i += 2;
            continue;
        }
        return i + 1;
    }
    n
}

/// `$tag$ ... $tag$` (tag possibly empty): returns the end, or None when `$` at `i` does
/// not open a dollar quote.
fn dollar_quote_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        if j == i + 1 && b[j].is_ascii_digit() {
            return None;
        }
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    match memchr::memmem::find(&b[body..], tag) {
        Some(k) => Some(body + k + tag.len()),
        None => Some(b.len()),
    }
}

fn is_punct(b: &[u8], t: &Token, s: &[u8]) -> bool {
    t.kind == Kind::Punct && &b[t.start..t.end] == s
}

fn is_word(b: &[u8], t: &Token, w: &str) -> bool {
    t.kind == Kind::Word && b[t.start..t.end].eq_ignore_ascii_case(w.as_bytes())
}

/// Marks tokens to drop so lists of any length normalize the same:
/// `IN (1, 2, 3)` → `IN ($1)`, `ARRAY[1, 2]` → `ARRAY[$1]`, and repeated `VALUES` rows
/// `(…), (…)` → the first row when the rows have the same shape.
fn collapse_lists(b: &[u8], toks: &[Token], keep: &mut [bool]) {
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let opens_value_list = (is_punct(b, t, b"(")
            && i > 0
            && (is_word(b, &toks[i - 1], "in") || is_word(b, &toks[i - 1], "any")))
            || (is_punct(b, t, b"[") && i > 0 && is_word(b, &toks[i - 1], "array"));
        if opens_value_list {
            let close: &[u8] = if is_punct(b, t, b"(") { b")" } else { b"]" };
            // Only a flat list of values and commas collapses.
            let mut j = i + 1;
            let mut flat = true;
            while j < toks.len() && !is_punct(b, &toks[j], close) {
                let tj = &toks[j];
                let sign = tj.kind == Kind::Punct && &b[tj.start..tj.end] == b"-";
                if !(tj.kind == Kind::Value || is_punct(b, tj, b",") || sign) {
                    flat = false;
                    break;
                }
                j += 1;
            }
            if flat && j < toks.len() && j > i + 1 {
                // Keep the first value, drop the rest up to the closing bracket.
                let mut first_value = true;
                for k in i + 1..j {
                    if toks[k].kind == Kind::Value && first_value {
                        first_value = false;
                        continue;
                    }
                    keep[k] = false;
                }
                i = j;
                continue;
            }
        }
        if is_word(b, t, "values") {
            collapse_rows(b, toks, keep, i + 1);
        }
        i += 1;
    }
}

/// From `start` (just after VALUES), drop rows equal in shape to the first one.
fn collapse_rows(b: &[u8], toks: &[Token], keep: &mut [bool], start: usize) {
    let Some(first_end) = group_end(b, toks, start) else {
        return;
    };
    let mut pos = first_end + 1;
    while pos + 1 < toks.len() && is_punct(b, &toks[pos], b",") {
        let Some(end) = group_end(b, toks, pos + 1) else {
            return;
        };
        if !same_shape(b, &toks[start..=first_end], &toks[pos + 1..=end]) {
            return;
        }
        for k in keep.iter_mut().take(end + 1).skip(pos) {
            *k = false;
        }
        pos = end + 1;
    }
}

/// Index of the `)` closing the `(` at `start`.
fn group_end(b: &[u8], toks: &[Token], start: usize) -> Option<usize> {
    if !toks.get(start).is_some_and(|t| is_punct(b, t, b"(")) {
        return None;
    }
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(start) {
        if t.kind == Kind::Punct {
            match &b[t.start..t.end] {
                b"(" => depth += 1,
                b")" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(k);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

fn same_shape(b: &[u8], x: &[Token], y: &[Token]) -> bool {
    x.len() == y.len()
        && x.iter().zip(y).all(|(p, q)| {
            p.kind == q.kind
                && (p.kind == Kind::Value
                    || b[p.start..p.end].eq_ignore_ascii_case(&b[q.start..q.end]))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(sql: &str) -> String {
        Normalizer::new().normalize(sql, false, Style::Dollar).1
    }

    #[test]
    fn normalized_text_keeps_case_and_numbers_placeholders() {
        assert_eq!(
            norm("SELECT id, sku FROM products  WHERE id = 934;"),
            "SELECT id, sku FROM products WHERE id = $1"
        );
        assert_eq!(
            norm("select * from x where a in (1,2,3) and b = 'x''y'"),
            "select * from x where a in ($1) and b = $2"
        );
        assert_eq!(
            norm("INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
        assert_eq!(
            norm("SELECT \"users\".\"Name\" FROM \"users\""),
            "SELECT users.\"Name\" FROM users"
        );
        assert_eq!(
            norm("SELECT count(*) FROM t -- trailing"),
            "SELECT count(*) FROM t"
        );
    }

    /// A xorshift generator for the generated-statement tests.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The streaming fingerprint equals the token list's wherever it is given, in both
    /// dialects; returns in how many of the two it was.
    fn streams_like_tokens(n: &mut Normalizer, sql: &str) -> usize {
        let mut streamed = 0;
        for mysql in [false, true] {
            if let Some(fast) = n.fingerprint_streaming(sql, mysql) {
                streamed += 1;
                assert_eq!(
                    fast,
                    n.fingerprint_tokens(sql, mysql),
                    "mysql={mysql} {sql:?}"
                );
            }
        }
        streamed
    }

    /// Token soup built to reach the streaming path's edges: lists that close, stay open,
    /// nest, hold signs or other words; semicolons inside and at the end; comments, quoted
    /// names, dollar quotes, negative numbers after operands.
    #[test]
    fn streaming_fingerprint_equals_token_list() {
        const PIECES: &[&str] = &[
            "SELECT",
            "select",
            "a",
            "\"A\"",
            "\"b\"",
            "`c`",
            "in",
            "IN",
            "any",
            "ARRAY",
            "array",
            "(",
            ")",
            "[",
            "]",
            ",",
            ",",
            "-",
            "-",
            "1",
            "2.5",
            "-3",
            "'x'",
            "'y''z'",
            "$1",
            "?",
            ";",
            ";",
            "=",
            "<=",
            "::",
            "+",
            "/* c */",
            "-- c\n",
            "# c\n",
            "\n",
            "$$ q $$",
            "E'\\''",
            "x'0f'",
            "_utf8'a'",
            "/*!40001 ",
            "*/",
            "values",
            "NULL",
            "or",
            "where",
            "between",
            "?|",
            ".",
            "1e5",
            "0x1F",
            "`a b`",
            "\"a b\"",
        ];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut n = Normalizer::new();
        let (mut streamed, mut cases) = (0, 0);
        for _ in 0..200_000 {
            let len = (next() % 14) as usize;
            let mut sql = String::new();
            for _ in 0..len {
                sql.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
                if !next().is_multiple_of(3) {
                    sql.push(' ');
                }
            }
            cases += 2;
            streamed += streams_like_tokens(&mut n, &sql);
        }
        // Most cases must take the streaming path, or the test proves little.
        assert!(streamed * 10 > cases * 7, "{streamed} of {cases} streamed");
    }

    /// Multi-row VALUES lists, most rows shaped like the first (other literals), some
    /// not (a value more, a word, a nested call, a list, a comment, cut short): the
    /// streaming path leaves out the same rows as the token list.
    #[test]
    fn streaming_values_rows_equal_token_list() {
        const CELLS: &[&str] = &[
            "1",
            "-2",
            "'x'",
            "NULL",
            "now()",
            "lower('A')",
            "$1",
            "?",
            "ARRAY[1, 2]",
            "(1 + 2)",
            "DEFAULT",
            "x IN (1, 2)",
            "'a''b'",
            "1e3",
            "TRUE",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut n = Normalizer::new();
        let (mut streamed, mut cases) = (0, 0);
        for _ in 0..40_000 {
            let width = 1 + (next() % 4) as usize;
            let cells: Vec<&str> = (0..width)
                .map(|_| CELLS[(next() % CELLS.len() as u64) as usize])
                .collect();
            let mut sql = String::from("INSERT INTO t (a) VALUES ");
            for r in 0..1 + next() % 6 {
                if r > 0 {
                    sql.push_str([",", ", ", " ,", ",/* c */"][(next() % 4) as usize]);
                }
                let mut row: Vec<String> = cells
                    .iter()
                    .map(|c| match (*c, next() % 3) {
                        // The same shape with other literals.
                        ("1", 0) => "42".to_string(),
                        ("'x'", 0) => "'yy'".to_string(),
                        (c, _) => c.to_string(),
                    })
                    .collect();
                match next() % 8 {
                    0 => row.push("7".to_string()),
                    1 => row[0] = "y".to_string(),
                    2 => row.insert(0, "(3)".to_string()),
                    _ => {}
                }
                sql.push('(');
                sql.push_str(&row.join(", "));
                if !next().is_multiple_of(20) {
                    sql.push(')');
                }
            }
            sql.push_str(
                ["", ";", " ON CONFLICT DO NOTHING", " RETURNING id;", ", (9"]
                    [(next() % 5) as usize],
            );
            cases += 2;
            streamed += streams_like_tokens(&mut n, &sql);
        }
        assert!(streamed * 10 > cases * 9, "{streamed} of {cases} streamed");
    }

    /// A bulk INSERT prints and hashes as its token list does, from the rows left once
    /// the repeats are cut out.
    #[test]
    fn bulk_insert_normalizes_from_the_rows_left() {
        let mut n = Normalizer::new();
        for tail in [
            "",
            ", (1, 2, 3) ;",
            " ,(  'x', 'y')ON CONFLICT DO NOTHING",
            "; -- end",
        ] {
            let mut sql = String::from("INSERT INTO t (a, b) VALUES (1, 'a')");
            for i in 0..10_000 {
                sql.push_str(&format!(",\n  ({i}, 'v{i}')"));
            }
            sql.push_str(tail);
            for mysql in [false, true] {
                for style in [Style::Dollar, Style::Question] {
                    let got = n.normalize(&sql, mysql, style);
                    assert_eq!(got, n.normalize_all(&sql, mysql, style), "{tail:?}");
                    assert_eq!(got.0, n.fingerprint(&sql, mysql));
                    assert!(got.1.len() < 200, "{}", got.1);
                }
            }
        }
    }

    /// The block scans agree with the byte tables on every byte value, at every word
    /// length and distance from the end of the text (where they fall back to bytes).
    #[test]
    fn block_word_scan_and_lowercase_match_the_byte_loop() {
        let mut next = xorshift(0x5eed);
        // Bytes drawn mostly from word bytes so words run long, across a block.
        let pick = |r: u64| -> u8 {
            match r % 4 {
                0 => (r >> 8) as u8,
                _ => b"aZ_$9q\xc3\xa9Q0xY"[(r >> 8) as usize % 12],
            }
        };
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            let text: Vec<u8> = (0..len).map(|_| pick(next())).collect();
            for i in 0..=len {
                let want = i + text[i..].iter().take_while(|&&c| is_word_char(c)).count();
                assert_eq!(word_end(&text, i), want, "{text:?} from {i}");
                let n = want - i;
                let mut key = b"k ".to_vec();
                push_lower(&mut key, &text[i..], n);
                let mut expect = b"k ".to_vec();
                expect.extend(text[i..want].iter().map(u8::to_ascii_lowercase));
                assert_eq!(key, expect, "{text:?} from {i}");
            }
        }
        for c in 0..=255u8 {
            let mut block = [b'a'; 16];
            block[7] = c;
            assert_eq!(word_mask(&block) >> 7 & 1 == 1, is_word_char(c), "byte {c}");
            assert_eq!(
                shape_mask(&block) >> 7 & 1 == 1,
                is_shape_byte(c),
                "byte {c}"
            );
        }
        // The shape scan stops at the same bytes by block and byte by byte.
        const SHAPE_BYTES: &[u8] = b"ab 1-/'\\\"#$`.*(";
        let mut next = xorshift(0x5ca9);
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| SHAPE_BYTES[next() as usize % SHAPE_BYTES.len()])
                .collect();
            for i in 0..=len {
                let want = i + text[i..].iter().take_while(|&&c| !is_shape_byte(c)).count();
                assert_eq!(next_shape_byte(&text, i), want, "{text:?} from {i}");
            }
        }
    }

    /// Texts of one shape have one fingerprint and the same tags. Statements are built
    /// from pieces that sit at the tokenizer's edges (prefixed strings, `.5`, hex
    /// numbers, `$` in words and dollar quotes, MySQL `#` and `/*!`, comments with `*`),
    /// each skeleton filled with literals of every form several times over, in both
    /// dialects.
    #[test]
    fn texts_of_one_shape_have_one_fingerprint() {
        const FIXED: &[&str] = &[
            "SELECT",
            "a",
            "a1",
            "x",
            "e",
            "E",
            "_utf8",
            "U",
            "&",
            "$",
            "$$",
            "$1",
            "$a$",
            ".",
            "-",
            "--",
            "#",
            "<",
            "*",
            "/",
            "/*",
            "*/",
            "/*!",
            "\n",
            "\"",
            "`",
            "'",
            "\"n1\"",
            "`c2`",
            "in",
            "(",
            ")",
            ",",
            "values",
            "?",
            "\\",
            "=",
            "/* c:1 */",
            "-- x\n",
            "# y\n",
            "::",
            "[",
            "]",
            ";",
            "qperf:ignore",
            "traceparent=",
            "controller=",
            "/*traceparent=",
            "/*controller=",
        ];
        const NUMBERS: &[&str] = &[
            "1", "42", "0", "0x1F", "0x", "1.5", "1e5", "1e+5", "1e", "3.", "1_000", "07",
        ];
        const STRINGS: &[&str] = &[
            "'a'",
            "'it''s'",
            "'a\\'b'",
            "'x*y'",
            "''",
            "'/*'",
            "'",
            "\"s\"",
            "\"a\\\"b\"",
            "'1'",
            "'--'",
            "'\\\\'",
            "'00-4bf9-01'",
            "'ab'",
            "'0,a'",
        ];
        let mut rnd = xorshift(0x5eed_5a4e);
        let mut n = Normalizer::new();
        let mut out = Vec::new();
        let (mut shaped, mut shared) = (0, 0);
        for _ in 0..20_000 {
            // A skeleton: fixed pieces, and slots that take a number or a string.
            let len = 1 + rnd() as usize % 12;
            let skeleton: Vec<(u64, &str)> = (0..len)
                .map(|_| {
                    let kind = rnd() % 4;
                    let sep = ["", " ", "\n", ""][rnd() as usize % 4];
                    let fixed = FIXED[rnd() as usize % FIXED.len()];
                    (kind, if kind < 2 { fixed } else { sep })
                })
                .collect();
            for mysql in [false, true] {
                let mut seen: std::collections::HashMap<u64, (Fingerprint, String)> =
                    Default::default();
                for _ in 0..8 {
                    let mut sql = String::new();
                    for &(kind, piece) in &skeleton {
                        match kind {
                            0 | 1 => sql.push_str(piece),
                            2 => sql.push_str(NUMBERS[rnd() as usize % NUMBERS.len()]),
                            _ => sql.push_str(STRINGS[rnd() as usize % STRINGS.len()]),
                        }
                        if rnd().is_multiple_of(2) {
                            sql.push(' ');
                        }
                    }
                    let Some(shape) = shape_hash(&sql, mysql, &mut out) else {
                        continue;
                    };
                    shaped += 1;
                    let fp = n.fingerprint(&sql, mysql);
                    let tags = crate::aggregate::Tags::of(&sql);
                    match seen.get(&shape.hash) {
                        Some((other_fp, other)) => {
                            shared += 1;
                            assert_eq!(*other_fp, fp, "mysql={mysql}\n{other:?}\n{sql:?}");
                            if !crate::aggregate::has_inline_ignore(sql.as_bytes()) {
                                assert_eq!(
                                    crate::aggregate::Tags::of(other),
                                    tags,
                                    "{other:?}\n{sql:?}"
                                );
                            }
                        }
                        None => {
                            seen.insert(shape.hash, (fp, sql));
                        }
                    }
                }
            }
        }
        // The test means something only if shapes were found and shared often.
        assert!(shaped > 100_000 && shared > 20_000, "{shaped} {shared}");
    }

    #[test]
    fn shapes_leave_out_values_only() {
        let mut out = Vec::new();
        let mut shape = |s: &str| shape_hash(s, false, &mut out);
        let a = shape("SELECT * FROM t WHERE id = 5 AND s = 'x' /* app:1 */");
        assert!(a.is_some_and(|s| s.literals));
        assert!(shape("SELECT * FROM t WHERE id = $1").is_some_and(|s| !s.literals));
        assert_eq!(
            a,
            shape("SELECT * FROM t WHERE id = 12345 AND s = 'it''s' /* app:1 */")
        );
        // Anything else is part of the shape: case, spacing, comments, names.
        for other in [
            "select * FROM t WHERE id = 5 AND s = 'x' /* app:1 */",
            "SELECT * FROM t WHERE id = 5 AND  s = 'x' /* app:1 */",
            "SELECT * FROM t WHERE id = 5 AND s = 'x' /* app:2 */",
            "SELECT * FROM t1 WHERE id = 5 AND s = 'x' /* app:1 */",
            "SELECT * FROM t WHERE id = $1 AND s = 'x' /* app:1 */",
        ] {
            assert_ne!(a, shape(other), "{other}");
        }
        // A trace id in a sqlcommenter comment is a value too, where it cannot change
        // what the comment's items and keys read as.
        let traced = shape("SELECT 1 /*controller='a',traceparent='00-4bf9-01'*/");
        assert_eq!(
            traced,
            shape("SELECT 22 /*controller='a',traceparent='00-0af7651916cd-02'*/")
        );
        assert_eq!(
            shape("/* traceparent='00-aa-01' */ SELECT 1"),
            shape("/* traceparent='ff' */ SELECT 1")
        );
        for (one, other) in [
            // Another endpoint.
            (
                "/*controller='a',traceparent='1'*/",
                "/*controller='b',traceparent='2'*/",
            ),
            // A value that is not hex and dashes (a comma would make another item).
            (
                "/*traceparent='1,controller=a'*/",
                "/*traceparent='1,controller=b'*/",
            ),
            ("/*traceparent='1x'*/", "/*traceparent='2x'*/"),
            // Not the key of an item: the value is another key's.
            (
                "/*controller=traceparent='1'*/",
                "/*controller=traceparent='2'*/",
            ),
            (
                "/*controller:traceparent='1'*/",
                "/*controller:traceparent='2'*/",
            ),
            // Nested comments read differently by the endpoint parser.
            (
                "/* /* x */ traceparent='1' */",
                "/* /* x */ traceparent='2' */",
            ),
            ("/*traceparent='1'", "/*traceparent='2'"),
        ] {
            assert_ne!(shape(one), shape(other), "{one} {other}");
        }
        // Where the tokenizer reads a prefix or a `.` with the literal, no shape.
        // And where a `/*` outside a comment could pair with a `*/` across a literal,
        // making the endpoint tag depend on it.
        for odd in [
            "SELECT E'a\\'b'",
            "SELECT x.5",
            "SELECT 'a*'",
            "SELECT 1 -- *",
            "SELECT \"/*\", 'x,controller:a,y', \"*/\"",
        ] {
            assert_eq!(shape(odd), None, "{odd}");
        }
        // MySQL: `#` after an operator byte is not a comment; what follows it on the
        // line may open a string that the next line's literal would otherwise hide.
        let mut mysql = |s: &str| shape_hash(s, true, &mut out);
        assert_eq!(mysql("SELECT 1 <# 'a\n x' foo 'y'"), None);
        assert!(mysql("SELECT 1 # 'a\n 'x' foo 'y'").is_some());
    }

    #[test]
    fn never_panics_on_unterminated_input() {
        for s in [
            "'abc",
            "\"abc",
            "/* abc",
            "$$ abc",
            "$a$ x",
            "`x",
            "E'\\",
            "-",
            "IN (",
            "VALUES (1",
            "?",
        ] {
            let _ = Normalizer::new().normalize(s, false, Style::Dollar);
            let _ = Normalizer::new().normalize(s, true, Style::Question);
            let _ = shape_hash(s, false, &mut Vec::new());
            let _ = shape_hash(s, true, &mut Vec::new());
        }
    }
}
