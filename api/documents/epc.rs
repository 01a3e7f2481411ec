//! The EPC QR code (European Payments Council, "Quick Response Code: Guidelines to Enable Data
//! Capture for the Initiation of a SEPA Credit Transfer", EPC069-12): `BCD` / version `002` /
//! character set `1` (UTF-8) / `SCT` / BIC (optional in version 002) / beneficiary name / IBAN
//! / `EUR` amount / purpose / structured remittance reference (ISO 11649) or unstructured
//! remittance text, one element a line, nothing after the last one given.

use super::qrbill::field;

/// One SEPA credit transfer to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epc {
    pub bic: Option<String>,
    pub name: String,
    /// Electronic form.
    pub iban: String,
    /// Euro cents.
    pub amount_minor: i64,
    /// An ISO 11649 creditor reference (`RF…`): the remittance is then structured.
    pub reference: Option<String>,
    /// The unstructured remittance text, used when there is no reference.
    pub text: String,
}

/// The most bytes an EPC payload may have.
pub const MAX_BYTES: usize = 331;

impl Epc {
    pub fn payload(&self) -> String {
        let amount = format!(
            "EUR{}.{:02}",
            self.amount_minor / 100,
            self.amount_minor % 100
        );
        let mut f: Vec<String> = vec![
            "BCD".into(),
            "002".into(),
            "1".into(),
            "SCT".into(),
            self.bic.clone().unwrap_or_default(),
            field(&self.name, 70),
            self.iban.clone(),
            amount,
            String::new(),
        ];
        match &self.reference {
            Some(r) => {
                f.push(field(r, 35));
            }
            None => {
                f.push(String::new());
                f.push(field(&self.text, 140));
            }
        }
        while f.last().is_some_and(String::is_empty) {
            f.pop();
        }
        f.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_has_the_elements_in_order() {
        let epc = Epc {
            bic: Some("POFICHBE".into()),
            name: "Leman SA".into(),
            iban: "CH9300762011623852957".into(),
            amount_minor: 123456,
            reference: Some("RF18539007547034".into()),
            text: String::new(),
        };
        let payload = epc.payload();
        assert_eq!(
            payload,
            "BCD\n002\n1\nSCT\nPOFICHBE\nLeman SA\nCH9300762011623852957\nEUR1234.56\n\nRF18539007547034"
        );
        assert!(payload.len() <= MAX_BYTES);
    }

    #[test]
    fn without_a_reference_the_text_is_used_and_long_names_are_cut() {
        let epc = Epc {
            bic: None,
            name: "N".repeat(100),
            iban: "CH9300762011623852957".into(),
            amount_minor: 5,
            reference: None,
            text: "Invoice 2026-000001".into(),
        };
        let lines: Vec<String> = epc.payload().split('\n').map(str::to_string).collect();
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[4], "");
        assert_eq!(lines[5].len(), 70);
        assert_eq!(lines[7], "EUR0.05");
        assert_eq!(lines[9], "");
        assert_eq!(lines[10], "Invoice 2026-000001");
    }
}

/// Property tests (issue 15, part 7): customer text cannot add or move an element of the EPC
/// payload.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn text_cannot_add_or_move_an_epc_element(
            name in any::<String>(),
            text in any::<String>(),
            reference in proptest::option::of(any::<String>()),
            minor in 1i64..100_000_000_000,
        ) {
            let epc = Epc {
                bic: Some("POFICHBEXXX".into()),
                name,
                iban: "DE89370400440532013000".into(),
                amount_minor: minor,
                reference: reference.clone(),
                text,
            };
            let payload = epc.payload();
            let elements: Vec<&str> = payload.split('\n').collect();
            prop_assert!((8..=11).contains(&elements.len()), "{:?}", elements);
            prop_assert_eq!(&elements[..4], &["BCD", "002", "1", "SCT"]);
            prop_assert_eq!(elements[4], "POFICHBEXXX");
            prop_assert_eq!(elements[6], "DE89370400440532013000");
            prop_assert!(elements[7].starts_with("EUR"));
            prop_assert!(!payload.contains('\r'));
        }
    }
}
