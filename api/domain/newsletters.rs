//! The newsletter topics (R8): a fixed catalogue, named and described in every language the
//! Manager speaks. Users subscribe and unsubscribe per topic.

use crate::error::FieldError;

/// One topic, with its name and description per language.
pub struct Topic {
    pub id: &'static str,
    /// (language, name, description) for each of `domain::LANGUAGES`.
    texts: [(&'static str, &'static str, &'static str); 5],
}

impl Topic {
    /// The name and description in `language` (English when the language is unknown).
    pub fn text(&self, language: &str) -> (&'static str, &'static str) {
        self.texts
            .iter()
            .find(|(l, _, _)| *l == language)
            .or_else(|| self.texts.first())
            .map(|(_, name, description)| (*name, *description))
            .unwrap_or((self.id, ""))
    }
}

pub const TOPICS: &[Topic] = &[
    Topic {
        id: "product_news",
        texts: [
            (
                "en",
                "Product news",
                "New products and features, and what changed in the ones you use.",
            ),
            (
                "fr",
                "Nouveautés produits",
                "Les nouveaux produits et fonctionnalités, et ce qui change dans ceux que vous utilisez.",
            ),
            (
                "de",
                "Produktneuheiten",
                "Neue Produkte und Funktionen und was sich bei denen ändert, die Sie nutzen.",
            ),
            (
                "it",
                "Novità sui prodotti",
                "Nuovi prodotti e funzionalità, e cosa cambia in quelli che usate.",
            ),
            (
                "es",
                "Novedades de productos",
                "Nuevos productos y funciones, y lo que cambia en los que utiliza.",
            ),
        ],
    },
    Topic {
        id: "offers",
        texts: [
            (
                "en",
                "Offers",
                "Promotions, discounts and limited-time offers.",
            ),
            (
                "fr",
                "Offres",
                "Promotions, réductions et offres limitées dans le temps.",
            ),
            (
                "de",
                "Angebote",
                "Aktionen, Rabatte und zeitlich begrenzte Angebote.",
            ),
            (
                "it",
                "Offerte",
                "Promozioni, sconti e offerte a tempo limitato.",
            ),
            (
                "es",
                "Ofertas",
                "Promociones, descuentos y ofertas por tiempo limitado.",
            ),
        ],
    },
    Topic {
        id: "tips",
        texts: [
            (
                "en",
                "Tips and guides",
                "How-tos and good practices to get more out of your products.",
            ),
            (
                "fr",
                "Conseils et guides",
                "Tutoriels et bonnes pratiques pour tirer le meilleur de vos produits.",
            ),
            (
                "de",
                "Tipps und Anleitungen",
                "Anleitungen und bewährte Vorgehensweisen, um mehr aus Ihren Produkten zu holen.",
            ),
            (
                "it",
                "Consigli e guide",
                "Tutorial e buone pratiche per ottenere di più dai vostri prodotti.",
            ),
            (
                "es",
                "Consejos y guías",
                "Tutoriales y buenas prácticas para sacar más partido a sus productos.",
            ),
        ],
    },
    Topic {
        id: "service_status",
        texts: [
            (
                "en",
                "Service status",
                "Planned maintenance and incident reports.",
            ),
            (
                "fr",
                "État des services",
                "Maintenances planifiées et comptes rendus d'incidents.",
            ),
            (
                "de",
                "Dienststatus",
                "Geplante Wartungsarbeiten und Störungsberichte.",
            ),
            (
                "it",
                "Stato dei servizi",
                "Manutenzioni programmate e resoconti degli incidenti.",
            ),
            (
                "es",
                "Estado de los servicios",
                "Mantenimientos programados e informes de incidencias.",
            ),
        ],
    },
    Topic {
        id: "events",
        texts: [
            (
                "en",
                "Events",
                "Invitations to webinars, meetups and trade fairs.",
            ),
            (
                "fr",
                "Événements",
                "Invitations aux webinaires, rencontres et salons.",
            ),
            (
                "de",
                "Veranstaltungen",
                "Einladungen zu Webinaren, Treffen und Messen.",
            ),
            ("it", "Eventi", "Inviti a webinar, incontri e fiere."),
            (
                "es",
                "Eventos",
                "Invitaciones a seminarios web, encuentros y ferias.",
            ),
        ],
    },
];

pub fn find(id: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.id == id)
}

/// A requested set of topic ids: every id must be in the catalogue (an unknown one is reported
/// at `<field>/<index>`); duplicates collapse; the result follows the catalogue's order.
pub fn parse_topics(raw: &[String], field: &str) -> Result<Vec<&'static str>, Vec<FieldError>> {
    let errors: Vec<FieldError> = raw
        .iter()
        .enumerate()
        .filter(|(_, id)| find(id).is_none())
        .map(|(i, _)| FieldError {
            field: format!("{field}/{i}"),
            code: "unknown_topic".into(),
            message: format!(
                "is not a newsletter topic; topics: {}",
                TOPICS.iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
            ),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TOPICS
        .iter()
        .map(|t| t.id)
        .filter(|id| raw.iter().any(|r| r == id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_speaks_every_language() {
        for topic in TOPICS {
            for (i, language) in crate::domain::LANGUAGES.iter().enumerate() {
                assert_eq!(topic.texts[i].0, *language, "{}", topic.id);
                let (name, description) = topic.text(language);
                assert!(!name.is_empty() && !description.is_empty(), "{}", topic.id);
            }
        }
        assert_eq!(find("tips").unwrap().text("de").0, "Tipps und Anleitungen");
    }

    #[test]
    fn topics_are_checked_deduplicated_and_ordered() {
        let raw = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_topics(&raw(&["events", "offers", "events"]), "/topics").unwrap(),
            ["offers", "events"]
        );
        assert!(parse_topics(&[], "/topics").unwrap().is_empty());
        let errors = parse_topics(&raw(&["offers", "spam", "Offers"]), "/topics").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/topics/1", "/topics/2"]);
        assert_eq!(errors[0].code, "unknown_topic");
    }
}
