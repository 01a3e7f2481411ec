#!/usr/bin/env python3
"""Mails of password changes and resets (run from the repository root:
`python3 scripts/mail_templates_passwords.py`)."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mail_templates import generate, FACTS  # noqa: E402

MAILS = {
    "password_reset": {
        "en": dict(subject="Reset your Leman password", paragraphs=["Hello {{ first_name }},", "Someone asked to reset the password of your Leman account. To choose a new one, follow the link below (valid {{ minutes }} minutes, usable once). All your sessions will then end."], button=("Choose a new password", "link"), footer="If you did not ask for this, ignore this message: your password stays as it is."),
        "fr": dict(subject="Réinitialisez votre mot de passe Leman", paragraphs=["Bonjour {{ first_name }},", "Une réinitialisation du mot de passe de votre compte Leman a été demandée. Pour en choisir un nouveau, suivez le lien ci-dessous (valable {{ minutes }} minutes, utilisable une fois). Toutes vos sessions seront ensuite fermées."], button=("Choisir un nouveau mot de passe", "link"), footer="Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe ne change pas."),
        "de": dict(subject="Setzen Sie Ihr Leman-Passwort zurück", paragraphs=["Hallo {{ first_name }},", "für Ihr Leman-Konto wurde das Zurücksetzen des Passworts angefordert. Um ein neues zu wählen, folgen Sie dem Link unten ({{ minutes }} Minuten gültig, einmal verwendbar). Danach enden alle Ihre Sitzungen."], button=("Neues Passwort wählen", "link"), footer="Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert."),
        "it": dict(subject="Reimposta la tua password Leman", paragraphs=["Ciao {{ first_name }},", "è stata chiesta la reimpostazione della password del tuo account Leman. Per sceglierne una nuova, segui il link qui sotto (valido {{ minutes }} minuti, utilizzabile una volta). Tutte le tue sessioni verranno poi chiuse."], button=("Scegli una nuova password", "link"), footer="Se non l’hai chiesto tu, ignora questo messaggio: la tua password resta invariata."),
        "es": dict(subject="Restablece tu contraseña de Leman", paragraphs=["Hola {{ first_name }}:", "Se ha pedido restablecer la contraseña de tu cuenta de Leman. Para elegir una nueva, sigue el enlace de abajo (válido {{ minutes }} minutos, de un solo uso). Después se cerrarán todas tus sesiones."], button=("Elegir una nueva contraseña", "link"), footer="Si no lo pediste tú, ignora este mensaje: tu contraseña no cambia."),
    },
    "password_changed": {
        "en": dict(subject="Your Leman password was changed", paragraphs=["Hello {{ first_name }},", "The password of your Leman account was just changed. Your other sessions have ended.", FACTS["en"]], footer="Not you? Reset your password at once: {{ reset_link }}"),
        "fr": dict(subject="Le mot de passe de votre compte Leman a été modifié", paragraphs=["Bonjour {{ first_name }},", "Le mot de passe de votre compte Leman vient d’être modifié. Vos autres sessions ont été fermées.", FACTS["fr"]], footer="Ce n’était pas vous ? Réinitialisez immédiatement votre mot de passe : {{ reset_link }}"),
        "de": dict(subject="Ihr Leman-Passwort wurde geändert", paragraphs=["Hallo {{ first_name }},", "das Passwort Ihres Leman-Kontos wurde soeben geändert. Ihre anderen Sitzungen wurden beendet.", FACTS["de"]], footer="Waren Sie das nicht? Setzen Sie Ihr Passwort sofort zurück: {{ reset_link }}"),
        "it": dict(subject="La password del tuo account Leman è stata cambiata", paragraphs=["Ciao {{ first_name }},", "la password del tuo account Leman è appena stata cambiata. Le altre sessioni sono state chiuse.", FACTS["it"]], footer="Non sei stato tu? Reimposta subito la password: {{ reset_link }}"),
        "es": dict(subject="Se ha cambiado la contraseña de tu cuenta de Leman", paragraphs=["Hola {{ first_name }}:", "Se acaba de cambiar la contraseña de tu cuenta de Leman. Tus otras sesiones se han cerrado.", FACTS["es"]], footer="¿No fuiste tú? Restablece tu contraseña de inmediato: {{ reset_link }}"),
    },
}

if __name__ == "__main__":
    generate(MAILS)
