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
    "k7qp-2m4x-dzra-wz3e-h5tn-q6bc", "cis2-jhtl-gmxg-edn7-3u55-xtpl", "pft7-v4se-h2kv-j72c-euvw-75ef",
    "r6ed-t4sy-wb5w-kh7d-nsip-zz7f", "k4zr-i3r2-wyoj-fljo-oa7l-qsaj", "2xui-d5zz-zzg6-zdme-n4kh-vdga",
    "jgxb-enyj-qwx6-hh75-66tf-jgvq", "6kbn-xjbt-fqxk-wovo-mpzo-m7wb", "br6q-mw4w-xfog-o6mv-n6a6-wfhy",
    "m6l3-vfz5-zfkk-ibj5-j6wj-ibag"
]}))]
pub struct RecoveryCodes {
    /// Ten codes of 24 characters (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`; dashes and case do not matter).
    pub recovery_codes: Vec<String>,
}
