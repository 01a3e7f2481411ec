//! QR codes (qrcodegen): the payload's UTF-8 bytes in byte mode at error correction level M —
//! what the Swiss QR-bill requires (version 25 at most) and the EPC guidelines recommend
//! (version 13 at most) — as a matrix of modules drawn as a 1-bit image.

use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};

/// The dark (true) and light modules of a QR code, row by row, without its quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub size: usize,
    pub dark: Vec<bool>,
}

/// `payload` as a QR code of level M, in byte mode, of a version from `min_version` to
/// `max_version` (the smallest that holds it).
pub fn encode(payload: &str, min_version: u8, max_version: u8) -> Option<QrMatrix> {
    let segments = [QrSegment::make_bytes(payload.as_bytes())];
    let code = QrCode::encode_segments_advanced(
        &segments,
        QrCodeEcc::Medium,
        Version::new(min_version),
        Version::new(max_version),
        None,
        false,
    )
    .ok()?;
    let size = code.size() as usize;
    let mut dark = Vec::with_capacity(size * size);
    for y in 0..size as i32 {
        for x in 0..size as i32 {
            dark.push(code.get_module(x, y));
        }
    }
    Some(QrMatrix { size, dark })
}

impl QrMatrix {
    /// The image's samples: 1 bit a module, 0 black, each row padded to a whole byte (a PDF
    /// `/DeviceGray` image of `/BitsPerComponent 1`).
    pub fn to_gray_bits(&self) -> Vec<u8> {
        let row_bytes = self.size.div_ceil(8);
        let mut out = vec![0xFFu8; row_bytes * self.size];
        for y in 0..self.size {
            for x in 0..self.size {
                if self.dark[y * self.size + x] {
                    out[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_pack_into_bits_black_as_zero() {
        let code = encode("SPC", 1, 25).unwrap();
        assert_eq!(code.size, 21);
        let bits = code.to_gray_bits();
        assert_eq!(bits.len(), 3 * 21);
        // The finder pattern's top-left module is dark.
        assert_eq!(bits[0] & 0x80, 0);
        // Row padding stays white.
        assert_eq!(bits[2] & 0x07, 0x07);
    }

    #[test]
    fn a_payload_too_long_for_the_version_is_refused() {
        assert!(encode(&"x".repeat(400), 1, 13).is_none());
        assert!(encode(&"x".repeat(400), 1, 25).is_some());
    }
}
