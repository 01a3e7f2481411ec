//! A4 pages drawn with printpdf's operations, measured in millimetres from the top-left corner
//! (PDF's own origin is the bottom-left), and their deterministic serialisation: no clock, no
//! random identifier, no hash-map order — the same pages give the same bytes.

use printpdf::{
    BuiltinFont, Color, CurTransMat, DictItem, ExternalStream, ExternalXObject, Greyscale, Line,
    LineDashPattern, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem, XObject, XObjectId, XObjectTransform,
};

use super::metrics::{printable, text_width_mm};
use super::qr::QrMatrix;

pub const PAGE_WIDTH: f32 = 210.0;
pub const PAGE_HEIGHT: f32 = 297.0;

fn pt(mm: f32) -> Pt {
    Pt(mm * 72.0 / 25.4)
}

/// A point `x` mm from the left and `y` mm from the top.
fn at(x: f32, y: f32) -> Point {
    Point {
        x: pt(x),
        y: pt(PAGE_HEIGHT - y),
    }
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale {
        percent: level,
        icc_profile: None,
    })
}

/// The font of a text: Helvetica, bold or not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Font {
    pub size: f32,
    pub bold: bool,
    /// 0 black … 1 white.
    pub grey: f32,
}

impl Font {
    pub const fn regular(size: f32) -> Self {
        Font {
            size,
            bold: false,
            grey: 0.0,
        }
    }
    pub const fn bold(size: f32) -> Self {
        Font {
            size,
            bold: true,
            grey: 0.0,
        }
    }
    pub const fn muted(size: f32) -> Self {
        Font {
            size,
            bold: false,
            grey: 0.35,
        }
    }

    pub fn width(&self, text: &str) -> f32 {
        text_width_mm(&printable(text), self.size, self.bold)
    }

    /// The distance between two lines of this font, in mm.
    pub fn leading(&self) -> f32 {
        self.size * 1.25 * 25.4 / 72.0
    }
}

/// Pages being drawn; the last one is the current page.
pub struct Canvas {
    pages: Vec<Vec<Op>>,
    images: Vec<(String, QrMatrix)>,
}

impl Canvas {
    pub fn new() -> Self {
        Canvas {
            pages: vec![vec![]],
            images: vec![],
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(vec![]);
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn ops(&mut self, page: usize) -> &mut Vec<Op> {
        &mut self.pages[page]
    }

    fn current(&self) -> usize {
        self.pages.len() - 1
    }

    /// `text` with its baseline at `y`, starting at `x`.
    pub fn text(&mut self, x: f32, y: f32, font: Font, text: &str) {
        let page = self.current();
        self.text_on(page, x, y, font, text);
    }

    /// `text` ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, font: Font, text: &str) {
        self.text(right - font.width(text), y, font, text);
    }

    pub fn text_on(&mut self, page: usize, x: f32, y: f32, font: Font, text: &str) {
        let text = printable(text);
        if text.trim().is_empty() {
            return;
        }
        let face = if font.bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        let ops = self.ops(page);
        ops.push(Op::SetFillColor {
            col: grey(font.grey),
        });
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFont {
            font: PdfFontHandle::Builtin(face),
            size: Pt(font.size),
        });
        ops.push(Op::SetTextCursor { pos: at(x, y) });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
        ops.push(Op::EndTextSection);
    }

    /// A filled rectangle whose top-left corner is (`x`, `y`).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, level: f32) {
        let page = self.current();
        let ops = self.ops(page);
        ops.push(Op::SetFillColor { col: grey(level) });
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(PAGE_HEIGHT - y - h),
                width: pt(w),
                height: pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    /// A straight line, `width` points thick, dashed when `dash` (mm on, mm off) is given.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, dash: Option<(f32, f32)>) {
        let page = self.current();
        let ops = self.ops(page);
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::SetOutlineColor { col: grey(0.0) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        if let Some((on, off)) = dash {
            ops.push(Op::SetLineDashPattern {
                dash: LineDashPattern::new(0.0, &[pt(on).0, pt(off).0]),
            });
        }
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: at(from.0, from.1),
                        bezier: false,
                    },
                    LinePoint {
                        p: at(to.0, to.1),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
        ops.push(Op::RestoreGraphicsState);
    }

    /// A QR code, `size` mm square, top-left corner at (`x`, `y`): one image pixel per module
    /// (a 1-bit grey image, not interpolated), so the code is found again in the file as is.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, code: QrMatrix) {
        let name = format!("Qr{}", self.images.len() + 1);
        self.images.push((name.clone(), code));
        let page = self.current();
        let ops = self.ops(page);
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw([
                pt(size).0,
                0.0,
                0.0,
                pt(size).0,
                pt(x).0,
                pt(PAGE_HEIGHT - y - size).0,
            ]),
        });
        ops.push(Op::UseXobject {
            id: XObjectId(name),
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        ops.push(Op::RestoreGraphicsState);
    }

    /// The PDF: `title` in its information, `timestamp` (the document's own date, seconds since
    /// the epoch) as its creation and modification dates, and `fingerprint` (what identifies the
    /// document) as the source of its file identifier.
    pub fn finish(self, title: &str, timestamp: i64, fingerprint: &str) -> Vec<u8> {
        use sha2::Digest;
        let mut doc = PdfDocument::new(&printable(title));
        doc.metadata.info.producer = "Leman".into();
        doc.metadata.info.creator = "Leman".into();
        if let Ok(date) = printpdf::OffsetDateTime::from_unix_timestamp(timestamp) {
            doc.metadata.info.creation_date = date;
            doc.metadata.info.modification_date = date;
            doc.metadata.info.metadata_date = date;
        }
        for (name, code) in self.images {
            let dict = [
                ("Type", DictItem::Name(b"XObject".to_vec())),
                ("Subtype", DictItem::Name(b"Image".to_vec())),
                ("Width", DictItem::Int(code.size as i64)),
                ("Height", DictItem::Int(code.size as i64)),
                ("ColorSpace", DictItem::Name(b"DeviceGray".to_vec())),
                ("BitsPerComponent", DictItem::Int(1)),
                ("Interpolate", DictItem::Bool(false)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            doc.resources.xobjects.map.insert(
                XObjectId(name),
                XObject::External(ExternalXObject {
                    stream: ExternalStream {
                        dict,
                        content: code.to_gray_bits(),
                        compress: true,
                    },
                    width: None,
                    height: None,
                    dpi: None,
                }),
            );
        }
        let pages = self
            .pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
            .collect();
        doc.with_pages(pages);
        let options = PdfSaveOptions {
            optimize: false,
            subset_fonts: false,
            secure: true,
            image_optimization: None,
        };
        let mut warnings = Vec::new();
        let mut pdf = doc.to_lopdf_document(&options, &mut warnings);
        // printpdf draws the file identifier at random: it becomes the document's own.
        let id = hex::encode(&sha2::Sha256::digest(fingerprint.as_bytes())[..16]).into_bytes();
        if let Ok(parts) = pdf.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
            for part in parts.iter_mut() {
                if let Ok(bytes) = part.as_str_mut() {
                    *bytes = id.clone();
                }
            }
        }
        pdf.compress();
        let mut bytes = Vec::new();
        pdf.save_to(&mut bytes)
            .expect("writing a PDF to memory does not fail");
        bytes
    }
}
