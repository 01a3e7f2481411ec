#!/usr/bin/env python3
"""The outgoing webhooks' mail (issue 14): an endpoint disabled after 5 days of failures, in every
language, written with `scripts/mail_templates.py`'s layout (run from the repository root:
`python3 scripts/mail_templates_webhooks.py`)."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mail_templates import generate  # noqa: E402

HELLO = {"en": "Hello {{ first_name }},", "fr": "Bonjour {{ first_name }},", "de": "Hallo {{ first_name }},", "it": "Ciao {{ first_name }},", "es": "Hola {{ first_name }}:"}

MAILS = {
    "webhook_endpoint_disabled": {
        "en": dict(subject="A webhook endpoint of {{ organization_name }} was disabled", paragraphs=[HELLO["en"], "Every delivery to the webhook endpoint {{ url }} of {{ organization_name }} has failed since {{ failing_since }}: after 5 days Leman disabled it, and sends it nothing more.", "Fix the receiver, then enable the endpoint again (its id: {{ endpoint_id }}); its delivery log shows each attempt and the answers received. Deliveries can be sent again from the log."], footer="You receive this as an administrator or legal representative of the organisation."),
        "fr": dict(subject="Un point de terminaison webhook de {{ organization_name }} a été désactivé", paragraphs=[HELLO["fr"], "Toutes les livraisons au point de terminaison webhook {{ url }} de {{ organization_name }} échouent depuis le {{ failing_since }} : après 5 jours, Leman l’a désactivé et ne lui envoie plus rien.", "Corrigez le récepteur, puis réactivez le point de terminaison (son identifiant : {{ endpoint_id }}) ; son journal de livraisons montre chaque tentative et les réponses reçues. Les livraisons peuvent être renvoyées depuis le journal."], footer="Vous recevez ce message en tant qu’administrateur ou représentant légal de l’organisation."),
        "de": dict(subject="Ein Webhook-Endpunkt von {{ organization_name }} wurde deaktiviert", paragraphs=[HELLO["de"], "alle Zustellungen an den Webhook-Endpunkt {{ url }} der Organisation {{ organization_name }} schlagen seit {{ failing_since }} fehl: nach 5 Tagen hat Leman ihn deaktiviert und sendet ihm nichts mehr.", "Beheben Sie den Fehler beim Empfänger und aktivieren Sie den Endpunkt wieder (seine ID: {{ endpoint_id }}); sein Zustellprotokoll zeigt jeden Versuch und die erhaltenen Antworten. Zustellungen können aus dem Protokoll erneut gesendet werden."], footer="Sie erhalten diese Nachricht als Administrator oder gesetzlicher Vertreter der Organisation."),
        "it": dict(subject="Un endpoint webhook di {{ organization_name }} è stato disattivato", paragraphs=[HELLO["it"], "tutte le consegne all’endpoint webhook {{ url }} di {{ organization_name }} falliscono dal {{ failing_since }}: dopo 5 giorni Leman lo ha disattivato e non gli invia più nulla.", "Correggi il ricevitore, poi riattiva l’endpoint (il suo id: {{ endpoint_id }}); il suo registro delle consegne mostra ogni tentativo e le risposte ricevute. Le consegne possono essere reinviate dal registro."], footer="Ricevi questo messaggio come amministratore o rappresentante legale dell’organizzazione."),
        "es": dict(subject="Se desactivó un endpoint de webhook de {{ organization_name }}", paragraphs=[HELLO["es"], "Todas las entregas al endpoint de webhook {{ url }} de {{ organization_name }} fallan desde el {{ failing_since }}: tras 5 días, Leman lo desactivó y ya no le envía nada.", "Corrige el receptor y vuelve a activar el endpoint (su id: {{ endpoint_id }}); su registro de entregas muestra cada intento y las respuestas recibidas. Las entregas pueden reenviarse desde el registro."], footer="Recibes este mensaje como administrador o representante legal de la organización."),
    },
}

if __name__ == "__main__":
    generate(MAILS)
