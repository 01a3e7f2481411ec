use serde::Serialize;
use utoipa::ToSchema;

use crate::services::two_factor::Enrolment;

/// A started TOTP enrolment: add the secret to an authenticator app (scan the QR code or type
/// the secret), then confirm with a code it shows.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/Leman:zoe.muller%40example.ch?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Leman",
    "qr_code": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
}))]
pub struct TotpEnrolment {
    /// The shared secret, base32 (RFC 4648): SHA-1, 6 digits, 30-second steps.
    pub secret: String,
    /// `otpauth://totp/Leman:<login email>?secret=…&issuer=Leman`, what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code as a PNG data URI, ready for an `<img src>`.
    pub qr_code: String,
}

impl From<Enrolment> for TotpEnrolment {
    fn from(e: Enrolment) -> Self {
        Self {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_code: e.qr_code,
        }
    }
}

/// Recovery codes: shown this once, each usable once instead of a TOTP code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": [
    "k7qp-2m4x-dzra-wz3e", "b5tn-hy6c-q2lf-tvjm", "x3we-p7ka-m2zd-r6ub", "f4gh-nayq-c3ts-w7lk",
    "m6rd-z2vb-kwxq-e4pa", "t3ny-w5gc-h7mf-q2lr", "ajke-r4ps-v6xd-n3wb", "j2zt-cymh-y5qe-l7gk",
    "w6fb-d3nr-psxa-t4vm", "e5ql-k2ys-g7wc-z3hd"
]}))]
pub struct RecoveryCodes {
    /// Ten codes of 16 characters (`xxxx-xxxx-xxxx-xxxx`; dashes and case do not matter).
    pub recovery_codes: Vec<String>,
}
