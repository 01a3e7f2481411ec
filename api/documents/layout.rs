//! The pages of each document: the issuer and the customer, the title and dates, the lines with
//! their periods, VAT per rate and totals, what was paid and refunded, and at the foot of the
//! last page the payment part (QR-bill) or the EPC QR code.

use chrono::{NaiveDate, NaiveTime};

use super::canvas::{Canvas, Font, PAGE_HEIGHT};
use super::texts::{Texts, date, qr_labels, texts};
use super::{
    CreditNote, Invoice, Line, Method, Party, PaymentCode, ProForma, Totals, VatRow, money, qrbill,
    vat_rows,
};
use crate::domain::Language;

const LEFT: f32 = 20.0;
const RIGHT: f32 = 190.0;
/// Where content stops on a page.
const BOTTOM: f32 = 277.0;
/// Where content starts on a page after the first.
const TOP: f32 = 25.0;

/// The right edges of the line table's number columns.
const COL_QTY: f32 = 128.0;
const COL_UNIT: f32 = 152.0;
const COL_VAT: f32 = 167.0;
const DESCRIPTION_WIDTH: f32 = 92.0;

struct Page {
    canvas: Canvas,
    y: f32,
    t: &'static Texts,
    language: Language,
}

impl Page {
    fn new(language: Language) -> Self {
        Page {
            canvas: Canvas::new(),
            y: 22.0,
            t: texts(language),
            language,
        }
    }

    fn date(&self, day: NaiveDate) -> String {
        date(self.language, day)
    }

    /// Room for `height` mm more on this page, or a new page.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.canvas.new_page();
            self.y = TOP;
        }
    }

    fn line_of(&mut self, font: Font, text: &str) {
        self.room(font.leading());
        self.canvas.text(LEFT, self.y, font, text);
        self.y += font.leading();
    }

    /// The issuer at the top left, the customer in the window on the right, then the title.
    fn head(&mut self, issuer: &Party, customer: &Party, title: &str, stamp: Option<&str>) {
        let t = self.t;
        let mut lines = issuer.address.lines().into_iter();
        if let Some(name) = lines.next() {
            self.canvas.text(LEFT, 22.0, Font::bold(12.0), &name);
        }
        let mut y = 27.0;
        for line in lines {
            self.canvas.text(LEFT, y, Font::regular(9.0), &line);
            y += 4.0;
        }
        if let Some(vat) = &issuer.vat_number {
            self.canvas.text(
                LEFT,
                y,
                Font::regular(9.0),
                &format!("{}: {vat}", t.vat_number),
            );
        }

        let x = 115.0;
        let mut y = 45.0;
        self.canvas.text(x, y, Font::muted(8.0), t.customer);
        y += 5.0;
        let mut lines = customer.address.lines().into_iter();
        if let Some(name) = lines.next() {
            for part in super::metrics::wrap(&name, RIGHT - x, 10.0, true) {
                self.canvas.text(x, y, Font::bold(10.0), &part);
                y += 4.5;
            }
        }
        for line in lines {
            for part in super::metrics::wrap(&line, RIGHT - x, 10.0, false) {
                self.canvas.text(x, y, Font::regular(10.0), &part);
                y += 4.5;
            }
        }
        if let Some(vat) = &customer.vat_number {
            self.canvas.text(
                x,
                y,
                Font::regular(9.0),
                &format!("{}: {vat}", t.vat_number),
            );
            y += 4.5;
        }

        self.y = y.max(72.0) + 8.0;
        self.canvas.text(LEFT, self.y, Font::bold(18.0), title);
        if let Some(stamp) = stamp {
            self.canvas
                .text_right(RIGHT, self.y, Font::bold(16.0).with_grey(0.45), stamp);
        }
        self.y += 9.0;
    }

    /// Label: value rows under the title.
    fn facts(&mut self, facts: &[(&str, String)]) {
        for (label, value) in facts {
            self.canvas.text(LEFT, self.y, Font::muted(9.0), label);
            self.canvas
                .text(LEFT + 38.0, self.y, Font::regular(9.0), value);
            self.y += 4.8;
        }
        self.y += 5.0;
    }

    fn rule(&mut self) {
        self.canvas.line((LEFT, self.y), (RIGHT, self.y), 0.5, None);
    }

    fn table_head(&mut self, currency: &str) {
        let t = self.t;
        let f = Font::bold(9.0);
        self.canvas.text(LEFT, self.y, f, t.description);
        self.canvas.text_right(COL_QTY, self.y, f, t.quantity);
        self.canvas.text_right(COL_UNIT, self.y, f, t.unit_price);
        self.canvas
            .text_right(COL_VAT, self.y, f, &format!("{} %", t.vat));
        self.canvas
            .text_right(RIGHT, self.y, f, &format!("{} {currency}", t.net));
        self.y += 2.0;
        self.rule();
        self.y += 5.0;
    }

    fn lines(&mut self, lines: &[Line], currency: &str) {
        self.room(20.0);
        self.table_head(currency);
        let body = Font::regular(9.0);
        for l in lines {
            let description = super::metrics::wrap(&l.description, DESCRIPTION_WIDTH, 9.0, false);
            let height = description.len() as f32 * body.leading() + 6.0;
            if self.y + height > BOTTOM {
                self.canvas.new_page();
                self.y = TOP;
                self.table_head(currency);
            }
            let top = self.y;
            for part in &description {
                self.canvas.text(LEFT, self.y, body, part);
                self.y += body.leading();
            }
            if let Some((start, end)) = l.period {
                let period = format!(
                    "{}: {} – {}",
                    self.t.period,
                    self.date(start),
                    self.date(end)
                );
                self.canvas.text(LEFT, self.y, Font::muted(8.0), &period);
                self.y += Font::muted(8.0).leading();
            }
            self.canvas
                .text_right(COL_QTY, top, body, &l.quantity.to_string());
            self.canvas
                .text_right(COL_UNIT, top, body, &money(l.unit_price_minor));
            self.canvas.text_right(COL_VAT, top, body, &l.vat_rate);
            self.canvas
                .text_right(RIGHT, top, body, &money(l.net_minor));
            self.y += 1.5;
        }
        self.rule();
        self.y += 5.0;
    }

    /// Subtotal, VAT per rate and total, right-aligned.
    fn totals(&mut self, rows: &[VatRow], totals: Totals, currency: &str) {
        let t = self.t;
        let body = Font::regular(9.0);
        let x = 105.0;
        self.room(6.0 * (rows.len() as f32 + 3.0));
        self.canvas.text(x, self.y, body, t.subtotal);
        self.canvas
            .text_right(RIGHT, self.y, body, &money(totals.subtotal_minor));
        self.y += 5.0;
        for row in rows {
            let label = format!("{} {} % {} {}", t.vat, row.rate, t.on, money(row.net_minor));
            self.canvas.text(x, self.y, body, &label);
            self.canvas
                .text_right(RIGHT, self.y, body, &money(row.vat_minor));
            self.y += 5.0;
        }
        self.y += 1.0;
        self.canvas
            .line((x, self.y - 3.5), (RIGHT, self.y - 3.5), 0.5, None);
        let bold = Font::bold(11.0);
        self.canvas
            .text(x, self.y + 1.0, bold, &format!("{} {currency}", t.total));
        self.canvas
            .text_right(RIGHT, self.y + 1.0, bold, &money(totals.total_minor));
        self.y += 11.0;
    }

    fn section_title(&mut self, title: &str) {
        self.room(14.0);
        self.canvas.text(LEFT, self.y, Font::bold(10.0), title);
        self.y += 2.0;
        self.rule();
        self.y += 5.0;
    }

    /// A row of cells at the given x positions, the last one right-aligned at the margin.
    fn row(&mut self, cells: &[(f32, String)], amount: String) {
        let body = Font::regular(9.0);
        self.room(body.leading());
        for (x, text) in cells {
            self.canvas.text(*x, self.y, body, text);
        }
        self.canvas.text_right(RIGHT, self.y, body, &amount);
        self.y += 5.0;
    }

    /// The payment part or the EPC code at the foot of the last page (a new page when there is
    /// no room left for it).
    fn payment_code(&mut self, code: &PaymentCode) {
        match code {
            PaymentCode::QrBill(bill) => {
                if self.y > PAGE_HEIGHT - qrbill::HEIGHT - 8.0 {
                    self.canvas.new_page();
                    self.y = TOP;
                }
                qrbill::draw(&mut self.canvas, bill, qr_labels(self.language));
            }
            PaymentCode::Epc(epc) => {
                let height = 48.0;
                let y = (BOTTOM - height).max(self.y + 4.0);
                if y + height > BOTTOM + 10.0 {
                    self.canvas.new_page();
                    self.y = TOP;
                }
                let y = (BOTTOM - height).max(self.y + 4.0);
                let Some(code) = super::qr::encode(&epc.payload(), 1, 13) else {
                    return;
                };
                let t = self.t;
                self.canvas.line((LEFT, y), (RIGHT, y), 0.5, None);
                self.canvas.qr(LEFT, y + 5.0, 38.0, code);
                let x = LEFT + 46.0;
                let mut yy = y + 9.0;
                for part in super::metrics::wrap(t.epc_caption, RIGHT - x, 10.0, true) {
                    self.canvas.text(x, yy, Font::bold(10.0), &part);
                    yy += 5.0;
                }
                yy += 2.0;
                let mut facts = vec![
                    (t.beneficiary, epc.name.clone()),
                    ("IBAN", qrbill::group4(&epc.iban)),
                ];
                if let Some(bic) = &epc.bic {
                    facts.push(("BIC", bic.clone()));
                }
                facts.push((t.amount, format!("EUR {}", money(epc.amount_minor))));
                if let Some(r) = &epc.reference {
                    facts.push((t.reference, qrbill::group4(r)));
                } else if !epc.text.is_empty() {
                    facts.push((t.reference, epc.text.clone()));
                }
                for (label, value) in facts {
                    self.canvas.text(x, yy, Font::muted(9.0), label);
                    self.canvas.text(x + 30.0, yy, Font::regular(9.0), &value);
                    yy += 4.8;
                }
            }
        }
    }

    /// Numbers the pages and writes the file; its `/ID` is derived from the document's kind,
    /// number, language and total (`kind|number|language|total`), never random.
    fn finish(
        mut self,
        title: &str,
        day: NaiveDate,
        (kind, number, total_minor): (&str, &str, i64),
    ) -> Vec<u8> {
        let fingerprint = format!("{kind}|{number}|{}|{total_minor}", self.language.code());
        let pages = self.canvas.page_count();
        if pages > 1 {
            for i in 0..pages {
                let label = format!("{} {}/{pages}", self.t.page, i + 1);
                let f = Font::muted(8.0);
                let x = RIGHT - f.width(&label);
                self.canvas.text_on(i, x, 12.0, f, &label);
            }
        }
        let timestamp = day.and_time(NaiveTime::MIN).and_utc().timestamp();
        self.canvas.finish(title, timestamp, &fingerprint)
    }
}

impl Font {
    fn with_grey(mut self, level: f32) -> Self {
        self.grey = level;
        self
    }
}

fn method_name(t: &Texts, m: &Method) -> String {
    match m {
        Method::Prepaid => t.prepaid.into(),
        Method::Card => t.card.into(),
        Method::BankTransfer => t.bank_transfer.into(),
        Method::Other(name) => name.clone(),
    }
}

/// The final invoice.
pub fn invoice_pdf(doc: &Invoice, language: Language) -> Vec<u8> {
    let mut p = Page::new(language);
    let t = p.t;
    let title = format!("{} {}", t.invoice, doc.number);
    let stamp = doc.paid.map(|_| t.paid_stamp);
    p.head(&doc.issuer, &doc.customer, &title, stamp);
    let mut facts = vec![
        (t.number, doc.number.clone()),
        (t.issued, p.date(doc.issued)),
        (t.due, p.date(doc.due)),
    ];
    if let Some(paid) = doc.paid {
        facts.push((t.paid_on, p.date(paid)));
    }
    p.facts(&facts);
    p.lines(&doc.lines, &doc.currency);
    p.totals(&vat_rows(&doc.lines), doc.totals, &doc.currency);
    if !doc.payments.is_empty() {
        p.section_title(t.payments);
        for pay in &doc.payments {
            let cells = [
                (LEFT, p.date(pay.date)),
                (LEFT + 30.0, method_name(t, &pay.method)),
            ];
            p.row(
                &cells,
                format!("{} {}", doc.currency, money(pay.amount_minor)),
            );
        }
        p.y += 4.0;
    }
    if !doc.credit_notes.is_empty() || doc.refunded_minor > 0 {
        p.section_title(t.refunds);
        for cn in &doc.credit_notes {
            let destination = if cn.to_prepaid {
                t.to_prepaid
            } else {
                t.to_original
            };
            let cells = [
                (LEFT, cn.number.clone()),
                (LEFT + 30.0, p.date(cn.date)),
                (LEFT + 55.0, destination.to_string()),
            ];
            p.row(
                &cells,
                format!("{} {}", doc.currency, money(-cn.amount_minor)),
            );
        }
        if doc.credit_notes.is_empty() {
            p.row(
                &[(LEFT, t.refunded.to_string())],
                format!("{} {}", doc.currency, money(-doc.refunded_minor)),
            );
        }
        p.y += 4.0;
    }
    if let Some(code) = &doc.code {
        p.payment_code(code);
    }
    p.finish(
        &title,
        doc.issued,
        ("invoice", &doc.number, doc.totals.total_minor),
    )
}

/// A credit note.
pub fn credit_note_pdf(doc: &CreditNote, language: Language) -> Vec<u8> {
    let mut p = Page::new(language);
    let t = p.t;
    let title = format!("{} {}", t.credit_note, doc.number);
    p.head(&doc.issuer, &doc.customer, &title, None);
    let refers = format!(
        "{} {} {}",
        doc.invoice_number,
        t.of_date,
        p.date(doc.invoice_issued)
    );
    p.facts(&[
        (t.number, doc.number.clone()),
        (t.issued, p.date(doc.issued)),
        (t.refers_to, refers),
    ]);
    let f = Font::bold(9.0);
    p.canvas.text(LEFT, p.y, f, &format!("{} %", t.vat));
    p.canvas
        .text_right(150.0, p.y, f, &format!("{} {}", t.net, doc.currency));
    p.canvas
        .text_right(RIGHT, p.y, f, &format!("{} {}", t.vat, doc.currency));
    p.y += 2.0;
    p.rule();
    p.y += 5.0;
    for row in &doc.vat_rows {
        let body = Font::regular(9.0);
        p.canvas.text(LEFT, p.y, body, &row.rate);
        p.canvas.text_right(150.0, p.y, body, &money(row.net_minor));
        p.canvas.text_right(RIGHT, p.y, body, &money(row.vat_minor));
        p.y += 5.0;
    }
    p.rule();
    p.y += 6.0;
    p.totals(&doc.vat_rows, doc.totals, &doc.currency);
    let destination = if doc.to_prepaid {
        t.to_prepaid
    } else {
        t.to_original
    };
    p.line_of(Font::regular(10.0), destination);
    p.finish(
        &title,
        doc.issued,
        ("credit_note", &doc.number, doc.totals.total_minor),
    )
}

/// A pro forma invoice: "no legal, tax or accounting value" under its title.
pub fn pro_forma_pdf(doc: &ProForma, language: Language) -> Vec<u8> {
    let mut p = Page::new(language);
    let t = p.t;
    let title = format!("{} {}", t.pro_forma, doc.number);
    p.head(&doc.issuer, &doc.customer, &title, None);
    for part in super::metrics::wrap(t.no_value, RIGHT - LEFT, 10.0, true) {
        p.line_of(Font::bold(10.0), &part);
    }
    p.y += 3.0;
    let mut facts = vec![
        (t.number, doc.number.clone()),
        (t.issued, p.date(doc.issued)),
        (t.valid_until, p.date(doc.valid_until)),
    ];
    if let Some(r) = &doc.transfer_reference {
        facts.push((t.transfer_reference, r.clone()));
    }
    p.facts(&facts);
    p.lines(&doc.lines, &doc.currency);
    p.totals(&vat_rows(&doc.lines), doc.totals, &doc.currency);
    if let Some(code) = &doc.code {
        p.payment_code(code);
    }
    p.finish(
        &title,
        doc.issued,
        ("pro_forma", &doc.number, doc.totals.total_minor),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::epc::Epc;
    use super::super::qrbill::{QrBill, Reference, creditor_reference, qr_reference};
    use super::super::{Address, CreditNoteRow, PaymentRow};
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn party(name: &str, street: &str, number: &str, town: &str, vat: Option<&str>) -> Party {
        Party {
            address: Address {
                name: name.into(),
                street: street.into(),
                building_number: number.into(),
                extra_line: None,
                postal_code: "1204".into(),
                town: town.into(),
                country: "CH".into(),
            },
            vat_number: vat.map(str::to_string),
        }
    }

    pub(crate) fn sample_invoice(currency: &str) -> Invoice {
        let issuer = party(
            "Leman SA",
            "Quai du Mont-Blanc",
            "5",
            "Genève",
            Some("CHE-123.456.789 TVA"),
        );
        let customer = party(
            "Zoë Müller & Söhne, Ñandú Straße",
            "Rue du Rhône",
            "12",
            "Genève",
            None,
        );
        let lines = vec![
            Line {
                description: "Web hosting Starter (1 year)".into(),
                period: Some((day(4), NaiveDate::from_ymd_opt(2027, 12, 3).unwrap())),
                quantity: 1,
                unit_price_minor: 12000,
                vat_rate: "8.1".into(),
                net_minor: 12000,
                vat_minor: 972,
                total_minor: 12972,
            },
            Line {
                description: "Domain example.ch — à la carte €".into(),
                period: None,
                quantity: 2,
                unit_price_minor: 1000,
                vat_rate: "2.6".into(),
                net_minor: 2000,
                vat_minor: 52,
                total_minor: 2052,
            },
        ];
        let totals = Totals {
            subtotal_minor: 14000,
            vat_minor: 1024,
            total_minor: 15024,
        };
        let code = if currency == "CHF" {
            PaymentCode::QrBill(Box::new(QrBill {
                account: "CH4431999123000889012".into(),
                creditor: issuer.address.clone(),
                amount_minor: Some(totals.total_minor),
                currency: "CHF".into(),
                debtor: Some(customer.address.clone()),
                reference: Reference::Qrr(qr_reference("12026000123")),
                message: "Invoice 2026-000123".into(),
            }))
        } else {
            PaymentCode::Epc(Epc {
                bic: None,
                name: "Leman SA".into(),
                iban: "CH9300762011623852957".into(),
                amount_minor: totals.total_minor,
                reference: Some(creditor_reference("INV2026000123")),
                text: String::new(),
            })
        };
        Invoice {
            number: "2026-000123".into(),
            issued: day(4),
            due: day(31),
            paid: Some(day(5)),
            currency: currency.into(),
            issuer,
            customer,
            lines,
            totals,
            payments: vec![PaymentRow {
                date: day(5),
                method: Method::Card,
                amount_minor: 15024,
            }],
            credit_notes: vec![CreditNoteRow {
                number: "CN-2026-000001".into(),
                date: day(6),
                amount_minor: 500,
                to_prepaid: true,
            }],
            refunded_minor: 500,
            code: Some(code),
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(pdf).expect("a PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages).expect("text")
    }

    #[test]
    fn an_invoice_renders_the_same_bytes_and_its_text_is_extractable() {
        for language in [
            Language::En,
            Language::Fr,
            Language::De,
            Language::It,
            Language::Es,
        ] {
            let a = invoice_pdf(&sample_invoice("CHF"), language);
            let b = invoice_pdf(&sample_invoice("CHF"), language);
            assert_eq!(a, b, "deterministic");
            let text = text_of(&a);
            let t = texts(language);
            for needle in [
                "2026-000123",
                "Zoë Müller & Söhne, Ñandú Straße",
                "Domain example.ch — à la carte €",
                "150.24",
                "CN-2026-000001",
                t.invoice,
                t.payments,
                qr_labels(language).receipt,
                qr_labels(language).payment_part,
            ] {
                assert!(
                    text.contains(needle),
                    "{language:?}: {needle} not in {text}"
                );
            }
            assert!(
                text.contains(&format!("{} 8.1 % {} 120.00", t.vat, t.on)),
                "{text}"
            );
        }
    }

    /// The payloads of the QR images in `pdf`, decoded with rqrr (8 pixels a module, a quiet
    /// zone of 4 modules).
    pub(crate) fn qr_payloads(pdf: &[u8]) -> Vec<String> {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        let mut found = vec![];
        for object in doc.objects.values() {
            let Ok(stream) = object.as_stream() else {
                continue;
            };
            let is_image =
                stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(&b"Image"[..]);
            if !is_image {
                continue;
            }
            let n = stream.dict.get(b"Width").unwrap().as_i64().unwrap() as usize;
            let bits = stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone());
            let row = n.div_ceil(8);
            let (scale, quiet) = (8, 4);
            let side = (n + 2 * quiet) * scale;
            let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
                let (mx, my) = (
                    (x / scale) as isize - quiet as isize,
                    (y / scale) as isize - quiet as isize,
                );
                if mx < 0 || my < 0 || mx as usize >= n || my as usize >= n {
                    return 255;
                }
                let (mx, my) = (mx as usize, my as usize);
                if bits[my * row + mx / 8] & (0x80 >> (mx % 8)) == 0 {
                    0
                } else {
                    255
                }
            });
            for grid in img.detect_grids() {
                found.push(grid.decode().unwrap().1);
            }
        }
        found
    }

    #[test]
    fn the_qr_codes_decode_from_the_file() {
        let doc = sample_invoice("CHF");
        let Some(PaymentCode::QrBill(bill)) = &doc.code else {
            unreachable!()
        };
        assert_eq!(
            qr_payloads(&invoice_pdf(&doc, Language::En)),
            vec![bill.payload()]
        );
        let doc = sample_invoice("EUR");
        let Some(PaymentCode::Epc(epc)) = &doc.code else {
            unreachable!()
        };
        assert_eq!(
            qr_payloads(&invoice_pdf(&doc, Language::En)),
            vec![epc.payload()]
        );
    }

    #[test]
    fn a_credit_note_names_its_invoice_vat_rows_and_destination_and_asks_for_nothing() {
        let inv = sample_invoice("CHF");
        let note = CreditNote {
            number: "CN-2026-000001".into(),
            issued: day(6),
            invoice_number: inv.number.clone(),
            invoice_issued: inv.issued,
            currency: "CHF".into(),
            issuer: inv.issuer.clone(),
            customer: inv.customer.clone(),
            vat_rows: vec![VatRow {
                rate: "8.1".into(),
                net_minor: 463,
                vat_minor: 37,
            }],
            totals: Totals {
                subtotal_minor: 463,
                vat_minor: 37,
                total_minor: 500,
            },
            to_prepaid: false,
        };
        for language in [
            Language::En,
            Language::Fr,
            Language::De,
            Language::It,
            Language::Es,
        ] {
            let pdf = credit_note_pdf(&note, language);
            assert_eq!(pdf, credit_note_pdf(&note, language));
            let text = text_of(&pdf);
            let t = texts(language);
            for needle in [
                format!("{} CN-2026-000001", t.credit_note),
                format!("2026-000123 {} {}", t.of_date, date(language, day(4))),
                format!("{} 8.1 % {} 4.63", t.vat, t.on),
                "5.00".to_string(),
                t.to_original.to_string(),
            ] {
                assert!(text.contains(&needle), "{language:?}: {needle} in {text}");
            }
            assert!(qr_payloads(&pdf).is_empty());
        }
    }

    #[test]
    fn a_pro_forma_says_it_has_no_value_in_its_language() {
        let inv = sample_invoice("CHF");
        let pf = ProForma {
            number: "PF-2026-000001".into(),
            issued: day(4),
            valid_until: day(18),
            currency: "CHF".into(),
            issuer: inv.issuer.clone(),
            customer: inv.customer.clone(),
            lines: inv.lines.clone(),
            totals: inv.totals,
            transfer_reference: Some("LMN-PF-2026-000001-ABC123".into()),
            code: inv.code.clone(),
        };
        for language in [
            Language::En,
            Language::Fr,
            Language::De,
            Language::It,
            Language::Es,
        ] {
            let text = text_of(&pro_forma_pdf(&pf, language));
            assert!(
                text.contains(texts(language).no_value),
                "{language:?}: {text}"
            );
            assert!(text.contains("LMN-PF-2026-000001-ABC123"));
        }
        assert!(
            texts(Language::En)
                .no_value
                .contains("no legal, tax or accounting value")
        );
    }

    #[test]
    fn many_lines_flow_onto_more_pages() {
        let mut doc = sample_invoice("EUR");
        let line = doc.lines[0].clone();
        doc.lines = (0..60).map(|_| line.clone()).collect();
        let pdf = invoice_pdf(&doc, Language::En);
        let parsed = lopdf::Document::load_mem(&pdf).unwrap();
        assert!(parsed.get_pages().len() >= 2);
        assert!(text_of(&pdf).contains("Page 2/"));
    }

    #[test]
    fn preview() {
        // `LEMAN_PDF_PREVIEW=dir cargo test --lib preview` writes the samples there to look at.
        let Some(dir) = std::env::var_os("LEMAN_PDF_PREVIEW") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(
            dir.join("invoice-chf.pdf"),
            invoice_pdf(&sample_invoice("CHF"), Language::De),
        )
        .unwrap();
        std::fs::write(
            dir.join("invoice-eur.pdf"),
            invoice_pdf(&sample_invoice("EUR"), Language::Fr),
        )
        .unwrap();
        let mut plain = sample_invoice("CHF");
        plain.credit_notes.clear();
        plain.refunded_minor = 0;
        std::fs::write(
            dir.join("invoice-plain.pdf"),
            invoice_pdf(&plain, Language::Fr),
        )
        .unwrap();
    }
}
