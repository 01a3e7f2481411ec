//! Pages of a list: `?limit=&cursor=` and the opaque keyset cursor (timestamp, id) that
//! continues it. Plain data: the HTTP layer reads it from the query string.

use crate::error::AppError;

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<String>` parameter:
/// serde_html_form reads `?to=` as absent; this keeps it as `Some("")`, for the route to refuse.
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(Some)
}

/// For `#[serde(default, deserialize_with = "parsed")]` on an `Option<i64>` or `Option<bool>`
/// parameter: `?limit=` is refused like any other value that is not a number (serde_html_form
/// would read it as absent and answer as if it had not been sent).
pub fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = <String as serde::Deserialize>::deserialize(d)?;
    raw.parse()
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("{raw:?}: {e}")))
}

/// `?limit=&cursor=` of every list: 1–100 items, 20 by default; the cursor is opaque.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "parsed")]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1)]
    #[serde(default, deserialize_with = "present")]
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(20),
            Some(n) if (1..=100).contains(&n) => Ok(n),
            Some(_) => Err(AppError::field(
                "limit",
                "out_of_range",
                "must be between 1 and 100",
            )),
        }
    }
}

/// Keyset cursors: (timestamp, id) of the last item of a page, opaque to clients.
pub mod cursor {
    use base64::Engine as _;
    use chrono::NaiveDateTime;

    use crate::error::AppError;

    /// 9999-12-31T23:59:59.999999Z in microseconds since the epoch.
    const MAX_MICROS: i64 = 253_402_300_799_999_999;

    pub fn encode(at: NaiveDateTime, id: &str) -> String {
        let raw = format!("{}|{id}", at.and_utc().timestamp_micros());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(cursor: &str) -> Result<(NaiveDateTime, String), AppError> {
        let bad = || AppError::field("cursor", "invalid", "is not a cursor returned by this list");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (micros, id) = raw.split_once('|').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        // Every timestamp of a row is `db::now()`: a cursor's lies within years 1970–9999, which
        // both engines hold (PostgreSQL refused chrono's far wider range with a 500).
        if !(0..=MAX_MICROS).contains(&micros) {
            return Err(bad());
        }
        let at = chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(bad)?
            .naive_utc();
        // An id: `<prefix>_<hex>`, nothing else.
        let id_shaped = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_shaped {
            return Err(bad());
        }
        Ok((at, id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = chrono::DateTime::from_timestamp_micros(1_764_147_600_123_456)
            .unwrap()
            .naive_utc();
        let c = cursor::encode(at, "act_1");
        assert_eq!(cursor::decode(&c).unwrap(), (at, "act_1".to_string()));
        assert!(cursor::decode("!!").is_err());
        assert!(cursor::decode("bm9waXBl").is_err());
    }

    /// Issue 9, finding 10: a timestamp PostgreSQL cannot hold never reaches a query.
    #[test]
    fn f10_cursors_out_of_range_or_with_a_strange_id_are_refused() {
        use base64::Engine as _;
        let raw = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        for bad in [
            "-8210298412800000001|x",
            "-1|act_1",
            "253402300800000000|act_1",
            "9223372036854775807|act_1",
            "1764147600000000|",
            "1764147600000000|act 1",
            "1764147600000000|act_1'--",
        ] {
            let e = cursor::decode(&raw(bad)).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.errors[0].field.as_str()),
                (422, "cursor"),
                "{bad}"
            );
        }
        let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 999_999)
            .unwrap();
        let id = format!("act_{}", uuid::Uuid::now_v7().simple());
        assert_eq!(
            cursor::decode(&cursor::encode(far, &id)).unwrap(),
            (far, id)
        );
    }
}

/// Property tests (issue 15, part 7): any cursor is a position or a 422, never a panic or a
/// timestamp a database cannot hold; what `encode` writes, `decode` reads back.
#[cfg(test)]
mod properties {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    const MAX_MICROS: i64 = 253_402_300_799_999_999;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_cursor_is_a_position_or_a_422(
            raw in prop_oneof![
                any::<String>(),
                any::<Vec<u8>>().prop_map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)),
                (any::<i64>(), any::<String>()).prop_map(|(m, id)| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{m}|{id}"))
                }),
            ]
        ) {
            match cursor::decode(&raw) {
                Ok((at, id)) => {
                    let micros = at.and_utc().timestamp_micros();
                    prop_assert!((0..=MAX_MICROS).contains(&micros));
                    prop_assert!((1..=64).contains(&id.len()));
                    prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
                }
                Err(e) => {
                    prop_assert_eq!(e.status.as_u16(), 422);
                    prop_assert_eq!(e.errors[0].field.as_str(), "cursor");
                }
            }
        }

        #[test]
        fn a_cursor_decodes_to_the_position_it_encodes(
            micros in 0..=MAX_MICROS,
            id in "[a-z]{3}_[0-9a-f]{32}",
        ) {
            let at = chrono::DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            prop_assert_eq!(cursor::decode(&cursor::encode(at, &id)).unwrap(), (at, id));
        }
    }
}
