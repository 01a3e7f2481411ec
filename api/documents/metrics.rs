//! Helvetica and Helvetica-Bold (two of the PDF's 14 built-in fonts) as the documents use them:
//! their advance widths (from Adobe's AFM files, in thousandths of an em) to measure and align
//! text, and the WinAnsi repertoire their `/WinAnsiEncoding` can show. Text outside it is
//! folded to its base letter (`ł` has none: `?`), so a name never turns into mojibake.

use unicode_normalization::UnicodeNormalization;

/// ASCII 0x20..=0x7E, Helvetica.
const REGULAR: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// ASCII 0x20..=0x7E, Helvetica-Bold.
const BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// The WinAnsi characters outside ASCII that are not a letter with a diacritic: (character,
/// regular width, bold width).
const OTHERS: &[(char, u16, u16)] = &[
    ('€', 556, 556),
    ('‚', 222, 278),
    ('ƒ', 556, 556),
    ('„', 333, 500),
    ('…', 1000, 1000),
    ('†', 556, 556),
    ('‡', 556, 556),
    ('ˆ', 333, 333),
    ('‰', 1000, 1000),
    ('‹', 333, 333),
    ('Œ', 1000, 1000),
    ('‘', 222, 278),
    ('’', 222, 278),
    ('“', 333, 500),
    ('”', 333, 500),
    ('•', 350, 350),
    ('–', 556, 556),
    ('—', 1000, 1000),
    ('˜', 333, 333),
    ('™', 1000, 1000),
    ('›', 333, 333),
    ('œ', 944, 944),
    ('\u{a0}', 278, 278),
    ('¡', 333, 333),
    ('¢', 556, 556),
    ('£', 556, 556),
    ('¤', 556, 556),
    ('¥', 556, 556),
    ('¦', 260, 280),
    ('§', 556, 556),
    ('¨', 333, 333),
    ('©', 737, 737),
    ('ª', 370, 370),
    ('«', 556, 556),
    ('¬', 584, 584),
    ('\u{ad}', 333, 333),
    ('®', 737, 737),
    ('¯', 333, 333),
    ('°', 400, 400),
    ('±', 584, 584),
    ('²', 333, 333),
    ('³', 333, 333),
    ('´', 333, 333),
    ('µ', 556, 611),
    ('¶', 537, 556),
    ('·', 278, 278),
    ('¸', 333, 333),
    ('¹', 333, 333),
    ('º', 365, 365),
    ('»', 556, 556),
    ('¼', 834, 834),
    ('½', 834, 834),
    ('¾', 834, 834),
    ('¿', 611, 611),
    ('Æ', 1000, 1000),
    ('Ð', 722, 722),
    ('×', 584, 584),
    ('Ø', 778, 778),
    ('Þ', 667, 667),
    ('ß', 611, 611),
    ('æ', 889, 889),
    ('ð', 556, 611),
    ('÷', 584, 584),
    ('ø', 611, 611),
    ('þ', 556, 611),
];

/// Letters with a diacritic that WinAnsi has besides Latin-1's (Š š Ž ž Ÿ).
const EXTRA_LETTERS: &[char] = &['Š', 'š', 'Ž', 'ž', 'Ÿ'];

/// Whether `/WinAnsiEncoding` has `c`.
pub fn in_win_ansi(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xFF)
        || EXTRA_LETTERS.contains(&c)
        || OTHERS.iter().any(|(o, _, _)| *o == c)
}

/// `text` as the built-in fonts can show it: control characters become spaces, characters
/// outside WinAnsi their base letter (`ő` → `o`), or `?` when they have none.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                return ' ';
            }
            if in_win_ansi(c) {
                return c;
            }
            match c.nfd().next() {
                Some(base) if in_win_ansi(base) => base,
                _ => '?',
            }
        })
        .collect()
}

/// The advance width of `c` in thousandths of an em (`c` already `printable`).
fn width_of(c: char, bold: bool) -> u16 {
    let table = if bold { &BOLD } else { &REGULAR };
    if let 0x20..=0x7E = c as u32 {
        return table[c as usize - 0x20];
    }
    if let Some((_, r, b)) = OTHERS.iter().find(|(o, _, _)| *o == c) {
        return if bold { *b } else { *r };
    }
    // A letter with a diacritic is as wide as its letter.
    match c.nfd().next() {
        Some(base) if (base as u32) < 0x7F && base != c => width_of(base, bold),
        _ => 556,
    }
}

/// The width of `text` at `size` points, in millimetres.
pub fn text_width_mm(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text.chars().map(|c| u32::from(width_of(c, bold))).sum();
    units as f32 / 1000.0 * size * 25.4 / 72.0
}

/// `text` broken into lines at most `width` mm wide (words longer than a line are cut).
pub fn wrap(text: &str, width: f32, size: f32, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if text_width_mm(&candidate, size, bold) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line: cut it.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if text_width_mm(&piece, size, bold) > width {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accented_text_is_kept_and_the_rest_folded() {
        assert_eq!(
            printable("Zoë Müller, Genève, Ñandú, Straße €"),
            "Zoë Müller, Genève, Ñandú, Straße €"
        );
        assert_eq!(printable("Łódź Dvořák\tő"), "?ódz Dvorák o");
    }

    #[test]
    fn widths_come_from_the_font() {
        // "Hello": H 722 + e 556 + l 222 + l 222 + o 556 = 2278 units.
        let mm = text_width_mm("Hello", 10.0, false);
        assert!((mm - 2.278 * 10.0 * 25.4 / 72.0).abs() < 0.01, "{mm}");
        assert_eq!(width_of('é', false), width_of('e', false));
        assert!(text_width_mm("W", 10.0, true) > text_width_mm("i", 10.0, true));
    }

    #[test]
    fn long_text_wraps_within_the_width() {
        let lines = wrap(
            "Web hosting Starter for example.ch with a very long name",
            30.0,
            10.0,
            false,
        );
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width_mm(l, 10.0, false) <= 30.0));
        let cut = wrap(&"x".repeat(200), 20.0, 10.0, false);
        assert!(cut.iter().all(|l| text_width_mm(l, 10.0, false) <= 20.0));
        assert_eq!(cut.concat().len(), 200);
    }
}
