//! The Swiss QR-bill (SIX, Swiss Implementation Guidelines for the QR-bill, version 2.3): its
//! payload — `SPC` / `0200` / coding `1`, the creditor's account, structured (`S`) addresses
//! only, amount, currency, debtor, a QR reference (`QRR`, with a QR-IBAN) or an ISO 11649
//! creditor reference (`SCOR`, with an ordinary IBAN), the unstructured message and the `EPD`
//! trailer — with the guidelines' field lengths and character set; the references and their
//! check digits; and the payment part drawn at the foot of an A4 page.

use super::Address;
use super::canvas::{Canvas, Font, PAGE_HEIGHT};
use super::qr;
use super::texts::QrLabels;

/// The height of the receipt and payment part at the foot of the page.
pub const HEIGHT: f32 = 105.0;

/// How the payment is referenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A QR reference: 27 digits, the last a modulo 10 recursive check digit (QR-IBAN only).
    Qrr(String),
    /// An ISO 11649 creditor reference `RFnn…` (ordinary IBAN only).
    Scor(String),
}

impl Reference {
    fn kind(&self) -> &'static str {
        match self {
            Reference::Qrr(_) => "QRR",
            Reference::Scor(_) => "SCOR",
        }
    }
    fn value(&self) -> &str {
        match self {
            Reference::Qrr(v) | Reference::Scor(v) => v,
        }
    }

    /// As printed: a QR reference in blocks of five from the right, a creditor reference in
    /// blocks of four.
    pub fn display(&self) -> String {
        match self {
            Reference::Qrr(v) => {
                let (head, rest) = v.split_at(v.len() % 5);
                let mut parts: Vec<&str> = vec![];
                if !head.is_empty() {
                    parts.push(head);
                }
                parts.extend(
                    rest.as_bytes()
                        .chunks(5)
                        .map(|c| std::str::from_utf8(c).unwrap_or("")),
                );
                parts.join(" ")
            }
            Reference::Scor(v) => group4(v),
        }
    }
}

/// One QR-bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrBill {
    /// The creditor's IBAN or QR-IBAN, electronic form (`CH4431999123000889012`).
    pub account: String,
    pub creditor: Address,
    /// In minor units; none leaves the amount to the payer.
    pub amount_minor: Option<i64>,
    /// `CHF` or `EUR`.
    pub currency: String,
    pub debtor: Option<Address>,
    pub reference: Reference,
    /// The unstructured message (140 characters at most).
    pub message: String,
}

/// The characters the guidelines (2.3) allow: Basic Latin, Latin-1 Supplement, Latin
/// Extended-A, Ș ș Ț ț and €.
pub fn allowed(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0x17F | 0x218..=0x21B | 0x20AC)
}

/// `text` made fit for a field of at most `max` characters: line breaks and runs of white space
/// become one space, characters outside the allowed set their base letter (or `.`), and what
/// is too long is cut.
pub fn field(text: &str, max: usize) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in text.nfc() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if allowed(c) {
            c
        } else {
            match c.nfd().next() {
                Some(base) if allowed(base) => base,
                _ => '.',
            }
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let cut: String = out.chars().take(max).collect();
    cut.trim_end().to_string()
}

/// The amount as the payload writes it: `1949.75`.
pub fn amount_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn address_fields(a: &Address) -> [String; 7] {
    [
        "S".into(),
        field(&a.name, 70),
        field(&a.street, 70),
        field(&a.building_number, 16),
        field(&a.postal_code, 16),
        field(&a.town, 35),
        a.country.to_ascii_uppercase(),
    ]
}

impl QrBill {
    /// The payload of the Swiss QR Code: the elements in the guidelines' order, separated by
    /// CR LF, none after the trailer.
    pub fn payload(&self) -> String {
        let mut f: Vec<String> = vec!["SPC".into(), "0200".into(), "1".into()];
        f.push(self.account.clone());
        f.extend(address_fields(&self.creditor));
        // The ultimate creditor: reserved for future use, left empty.
        f.extend(std::iter::repeat_n(String::new(), 7));
        f.push(self.amount_minor.map(amount_text).unwrap_or_default());
        f.push(self.currency.clone());
        match &self.debtor {
            Some(d) => f.extend(address_fields(d)),
            None => f.extend(std::iter::repeat_n(String::new(), 7)),
        }
        f.push(self.reference.kind().into());
        f.push(self.reference.value().into());
        f.push(field(&self.message, 140));
        f.push("EPD".into());
        f.join("\r\n")
    }
}

/// The modulo 10 recursive check digit of `digits` (SIX; as of the orange slips).
pub fn mod10_check(digits: &str) -> u8 {
    const TABLE: [u8; 10] = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];
    let carry = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u8, |carry, d| TABLE[((carry + (d - b'0')) % 10) as usize]);
    (10 - carry) % 10
}

/// A QR reference for `digits`: the last 26 digits of it (zeros in front when shorter), then
/// the check digit.
pub fn qr_reference(digits: &str) -> String {
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(26)..];
    let body = format!("{tail:0>26}");
    format!("{body}{}", mod10_check(&body))
}

pub fn is_valid_qr_reference(reference: &str) -> bool {
    reference.len() == 27
        && reference.bytes().all(|b| b.is_ascii_digit())
        && reference.bytes().any(|b| b != b'0')
        && mod10_check(&reference[..26]) == reference.as_bytes()[26] - b'0'
}

/// ISO 7064 MOD 97-10 of an alphanumeric string (letters count 10 to 35).
fn mod97(text: &str) -> u32 {
    text.chars().fold(0u32, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

/// An ISO 11649 creditor reference for `body` (letters and digits; at most 21 kept).
pub fn creditor_reference(body: &str) -> String {
    let body: String = body
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let body = &body[body.len().saturating_sub(21)..];
    let check = 98 - mod97(&format!("{body}RF00"));
    format!("RF{check:02}{body}")
}

pub fn is_valid_creditor_reference(reference: &str) -> bool {
    let r = reference.to_ascii_uppercase();
    (5..=25).contains(&r.len())
        && r.starts_with("RF")
        && r.chars().all(|c| c.is_ascii_alphanumeric())
        && mod97(&format!("{}{}", &r[4..], &r[..4])) == 1
}

/// Whether `iban` (electronic form) is a QR-IBAN: Swiss or Liechtenstein, with an institution
/// id (IID) from 30000 to 31999.
pub fn is_qr_iban(iban: &str) -> bool {
    (iban.starts_with("CH") || iban.starts_with("LI"))
        && iban
            .get(4..9)
            .and_then(|iid| iid.parse::<u32>().ok())
            .is_some_and(|iid| (30000..=31999).contains(&iid))
}

/// `text` in blocks of four (IBANs, creditor references).
pub fn group4(text: &str) -> String {
    text.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An amount as printed on the payment part: a space between thousands, `1 949.75`.
pub fn amount_display(minor: i64) -> String {
    let units = (minor / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", minor % 100)
}

fn address_lines(a: &Address) -> Vec<String> {
    let street = [field(&a.street, 70), field(&a.building_number, 16)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let town = format!("{} {}", field(&a.postal_code, 16), field(&a.town, 35));
    let town = if a.country.eq_ignore_ascii_case("CH") {
        town
    } else {
        format!("{}-{town}", a.country.to_ascii_uppercase())
    };
    [field(&a.name, 70), street, town]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
}

/// The Swiss QR Code of `payload`: level M, version 25 at most (the guidelines), and preferably
/// a version from 14 to 20, whose centre — under the Swiss cross — holds no alignment pattern:
/// in versions 7 to 13 and from 21 the cross hides one, which strict readers (zbar) need.
pub fn symbol(payload: &str) -> Option<qr::QrMatrix> {
    qr::encode(payload, 14, 20).or_else(|| qr::encode(payload, 21, 25))
}

/// Draws the receipt and the payment part at the foot of the current page: the separation
/// lines (with the notice to separate), the titles and headings in `labels`' language, the
/// Swiss QR Code of 46 × 46 mm with the Swiss cross of 7 × 7 mm in its centre. None when the
/// payload does not fit a QR code (it always does within the field lengths).
pub fn draw(canvas: &mut Canvas, bill: &QrBill, labels: &QrLabels) -> Option<()> {
    let code = symbol(&bill.payload())?;
    let top = PAGE_HEIGHT - HEIGHT;
    let line_pt = 0.75;
    // Separation: above the receipt and payment part, and between them.
    canvas.text(5.0, top - 1.5, Font::muted(7.0), labels.separate);
    canvas.line((0.0, top), (210.0, top), line_pt, Some((1.0, 1.0)));
    canvas.line((62.0, top), (62.0, PAGE_HEIGHT), line_pt, Some((1.0, 1.0)));

    let account = group4(&bill.account);
    let creditor = address_lines(&bill.creditor);
    let debtor = bill.debtor.as_ref().map(address_lines);
    let reference = bill.reference.display();
    let amount = bill.amount_minor.map(amount_display).unwrap_or_default();
    let message = field(&bill.message, 140);

    // The receipt: 62 mm wide, 5 mm margins.
    let title = Font::bold(11.0);
    canvas.text(5.0, top + 9.0, title, labels.receipt);
    let receipt = Column {
        x: 5.0,
        width: 52.0,
        heading: Font::bold(6.0),
        value: Font::regular(8.0),
        step: 9.0 * 25.4 / 72.0,
    };
    let mut payee = vec![account];
    payee.extend(creditor);
    let mut y = top + 14.0;
    receipt.section(canvas, &mut y, labels.account_payable_to, &payee);
    receipt.section(
        canvas,
        &mut y,
        labels.reference,
        std::slice::from_ref(&reference),
    );
    if let Some(d) = &debtor {
        receipt.section(canvas, &mut y, labels.payable_by, d);
    }
    let (heading, value) = (receipt.heading, receipt.value);
    canvas.text(5.0, top + 70.0, heading, labels.currency);
    canvas.text(17.0, top + 70.0, heading, labels.amount);
    canvas.text(5.0, top + 74.0, value, &bill.currency);
    canvas.text(17.0, top + 74.0, value, &amount);
    canvas.text_right(57.0, top + 86.0, heading, labels.acceptance_point);

    // The payment part: 148 mm wide; the QR code 17 mm below its top edge.
    canvas.text(67.0, top + 9.0, title, labels.payment_part);
    let (qx, qy, qs) = (67.0, top + 17.0, 46.0);
    canvas.qr(qx, qy, qs, code);
    let (cx, cy) = (qx + qs / 2.0, qy + qs / 2.0);
    canvas.fill_rect(cx - 3.5, cy - 3.5, 7.0, 7.0, 1.0);
    canvas.fill_rect(cx - 3.0, cy - 3.0, 6.0, 6.0, 0.0);
    let (arm, span) = (1.17, 3.9);
    canvas.fill_rect(cx - arm / 2.0, cy - span / 2.0, arm, span, 1.0);
    canvas.fill_rect(cx - span / 2.0, cy - arm / 2.0, span, arm, 1.0);

    let payment = Column {
        x: 118.0,
        width: 87.0,
        heading: Font::bold(8.0),
        value: Font::regular(10.0),
        step: 11.0 * 25.4 / 72.0,
    };
    let (heading, value) = (payment.heading, payment.value);
    canvas.text(67.0, top + 72.0, heading, labels.currency);
    canvas.text(81.0, top + 72.0, heading, labels.amount);
    canvas.text(67.0, top + 77.0, value, &bill.currency);
    canvas.text(81.0, top + 77.0, value, &amount);
    let mut y = top + 8.0;
    payment.section(canvas, &mut y, labels.account_payable_to, &payee);
    payment.section(
        canvas,
        &mut y,
        labels.reference,
        std::slice::from_ref(&reference),
    );
    if !message.is_empty() {
        payment.section(
            canvas,
            &mut y,
            labels.additional_information,
            std::slice::from_ref(&message),
        );
    }
    if let Some(d) = &debtor {
        payment.section(canvas, &mut y, labels.payable_by, d);
    }
    Some(())
}

/// A column of headed sections (the receipt's, the payment part's information).
struct Column {
    x: f32,
    width: f32,
    heading: Font,
    value: Font,
    /// The line spacing, in mm.
    step: f32,
}

impl Column {
    /// `head` then `lines` (wrapped to the column) from `y`, then half a blank line.
    fn section(&self, canvas: &mut Canvas, y: &mut f32, head: &str, lines: &[String]) {
        canvas.text(self.x, *y, self.heading, head);
        *y += self.step;
        for line in lines {
            for part in super::metrics::wrap(line, self.width, self.value.size, false) {
                canvas.text(self.x, *y, self.value, &part);
                *y += self.step;
            }
        }
        *y += self.step * 0.5;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: &str) -> Address {
        Address {
            name: name.into(),
            street: "Rue du Rhône".into(),
            building_number: "12".into(),
            extra_line: None,
            postal_code: "1204".into(),
            town: "Genève".into(),
            country: "CH".into(),
        }
    }

    #[test]
    fn mod10_recursive_matches_six_examples() {
        // SIX's sample QR reference 21 00000 00003 13947 14300 09017.
        assert_eq!(mod10_check("21000000000313947143000901"), 7);
        assert!(is_valid_qr_reference("210000000003139471430009017"));
        assert!(!is_valid_qr_reference("210000000003139471430009018"));
        assert!(!is_valid_qr_reference("000000000000000000000000000"));
        let body = format!("{:0>26}", "12026000123");
        assert_eq!(
            qr_reference("1-2026-000123"),
            format!("{body}{}", mod10_check(&body))
        );
        assert!(is_valid_qr_reference(&qr_reference("12026000123")));
        assert_eq!(qr_reference("12026000123").len(), 27);
    }

    #[test]
    fn iso_11649_creditor_references() {
        // ISO 11649's own example.
        assert_eq!(creditor_reference("539007547034"), "RF18539007547034");
        assert!(is_valid_creditor_reference("RF18539007547034"));
        assert!(!is_valid_creditor_reference("RF19539007547034"));
        let r = creditor_reference("INV-2026-000123");
        assert!(r.starts_with("RF") && r.ends_with("INV2026000123"), "{r}");
        assert!(is_valid_creditor_reference(&r));
        assert!(creditor_reference(&"A".repeat(40)).len() <= 25);
    }

    #[test]
    fn qr_ibans_have_an_iid_from_30000_to_31999() {
        assert!(is_qr_iban("CH4431999123000889012"));
        assert!(!is_qr_iban("CH9300762011623852957"));
        assert!(!is_qr_iban("DE89370400440532013000"));
    }

    #[test]
    fn fields_keep_the_allowed_characters_and_their_lengths() {
        assert_eq!(
            field("  Zoë   Müller\r\nStraße 5 ", 70),
            "Zoë Müller Straße 5"
        );
        assert_eq!(field("Dvořák ☃ 東京", 70), "Dvořák . ..");
        let long = "Ä".repeat(80);
        assert_eq!(field(&long, 70).chars().count(), 70);
        assert_eq!(field(&"x".repeat(40), 35).len(), 35);
    }

    #[test]
    fn the_payload_follows_the_guidelines_order() {
        let bill = QrBill {
            account: "CH4431999123000889012".into(),
            creditor: address(&"Leman SA ".repeat(10)),
            amount_minor: Some(194975),
            currency: "CHF".into(),
            debtor: Some(address("Acme Sàrl")),
            reference: Reference::Qrr("210000000003139471430009017".into()),
            message: "Invoice 2026-000123".into(),
        };
        let payload = bill.payload();
        let f: Vec<&str> = payload.split("\r\n").collect();
        assert_eq!(f.len(), 31);
        assert_eq!(&f[..4], ["SPC", "0200", "1", "CH4431999123000889012"]);
        assert_eq!(f[4], "S");
        assert_eq!(f[5].chars().count(), 70, "a long name is cut to 70");
        assert_eq!(&f[6..11], ["Rue du Rhône", "12", "1204", "Genève", "CH"]);
        assert!(f[11..18].iter().all(|s| s.is_empty()));
        assert_eq!(&f[18..20], ["1949.75", "CHF"]);
        assert_eq!(
            &f[20..27],
            [
                "S",
                "Acme Sàrl",
                "Rue du Rhône",
                "12",
                "1204",
                "Genève",
                "CH"
            ]
        );
        assert_eq!(
            &f[27..31],
            [
                "QRR",
                "210000000003139471430009017",
                "Invoice 2026-000123",
                "EPD"
            ]
        );
        assert!(!payload.ends_with('\n'));
        assert!(payload.chars().count() <= 997);
        assert!(symbol(&payload).is_some_and(|s| (73..=97).contains(&s.size)));
    }

    #[test]
    fn displays() {
        assert_eq!(amount_display(194975), "1 949.75");
        assert_eq!(amount_display(123456789), "1 234 567.89");
        assert_eq!(amount_display(5), "0.05");
        assert_eq!(amount_text(5), "0.05");
        assert_eq!(
            Reference::Qrr("210000000003139471430009017".into()).display(),
            "21 00000 00003 13947 14300 09017"
        );
        assert_eq!(
            group4("CH4431999123000889012"),
            "CH44 3199 9123 0008 8901 2"
        );
    }
}

/// Property tests (issue 15, part 7): references read from outside (a bank's report) are
/// checked without panic; the references we make always check; customer text cannot add or
/// move a field of the payload.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn address(name: String, street: String, town: String) -> Address {
        Address {
            name,
            street,
            building_number: "12".into(),
            extra_line: None,
            postal_code: "1204".into(),
            town,
            country: "CH".into(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_checked_as_a_reference_or_iban_without_panic(
            raw in prop_oneof![any::<String>(), "[0-9]{20,30}", "(RF|rf)[0-9A-Za-z]{0,25}", "(CH|LI)[0-9]{2,30}"]
        ) {
            if is_valid_qr_reference(&raw) {
                prop_assert_eq!(qr_reference(&raw[..26]), raw.clone());
            }
            if is_valid_creditor_reference(&raw) {
                // Made again from its body, it checks and keeps the body (check digits 01 and
                // 98 are the same modulo 97, so the digits themselves may differ).
                let again = creditor_reference(&raw[4..]);
                prop_assert!(is_valid_creditor_reference(&again));
                prop_assert_eq!(&again[4..], raw[4..].to_ascii_uppercase());
            }
            let _ = is_qr_iban(&raw);
            let _ = mod10_check(&raw);
            let _ = group4(&raw);
        }

        #[test]
        fn a_qr_reference_we_make_checks_and_keeps_its_digits(digits in "[0-9]{0,40}") {
            let r = qr_reference(&digits);
            prop_assert_eq!(r.len(), 27);
            let tail = &digits[digits.len().saturating_sub(26)..];
            prop_assert_eq!(r[..26].trim_start_matches('0'), tail.trim_start_matches('0'));
            // A reference of zeros only is not one (the guidelines); every other checks.
            prop_assert_eq!(is_valid_qr_reference(&r), tail.bytes().any(|b| b != b'0'));
            // One changed digit is caught by the check digit.
            let mut changed = r.clone().into_bytes();
            changed[10] = if changed[10] == b'9' { b'0' } else { changed[10] + 1 };
            prop_assert!(!is_valid_qr_reference(&String::from_utf8(changed).unwrap()));
        }

        #[test]
        fn a_creditor_reference_we_make_checks(body in "[0-9A-Za-z]{1,30}") {
            let r = creditor_reference(&body);
            prop_assert!(is_valid_creditor_reference(&r), "{}", r);
            prop_assert!(r.len() <= 25);
        }

        #[test]
        fn a_field_holds_allowed_characters_on_one_line(text in any::<String>(), max in 1usize..150) {
            let f = field(&text, max);
            prop_assert!(f.chars().count() <= max);
            prop_assert!(f.chars().all(allowed));
            prop_assert!(!f.contains(['\r', '\n']));
        }

        #[test]
        fn customer_text_cannot_add_or_move_a_payload_field(
            name in any::<String>(),
            street in any::<String>(),
            town in any::<String>(),
            message in any::<String>(),
            minor in any::<i64>(),
            reference in "[0-9]{1,26}",
        ) {
            let bill = QrBill {
                account: "CH4431999123000889012".into(),
                creditor: address("Leman SA".into(), "Rue du Rhône".into(), "Genève".into()),
                amount_minor: Some(minor),
                currency: "CHF".into(),
                debtor: Some(address(name, street, town)),
                reference: Reference::Qrr(qr_reference(&reference)),
                message,
            };
            let payload = bill.payload();
            let elements: Vec<&str> = payload.split("\r\n").collect();
            prop_assert_eq!(elements.len(), 31);
            prop_assert_eq!(elements[27], "QRR");
            prop_assert_eq!(elements[30], "EPD");
            prop_assert!(!elements.iter().any(|e| e.contains('\n') || e.contains('\r')));
        }

        #[test]
        fn amounts_are_written_without_panic(minor in any::<i64>()) {
            let _ = amount_text(minor);
            let _ = amount_display(minor);
        }
    }
}
