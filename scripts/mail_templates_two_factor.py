#!/usr/bin/env python3
"""Mail templates of two-factor authentication, in every language (run from the repository
root: `python3 scripts/mail_templates_two_factor.py`)."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mail_templates import generate, FACTS  # noqa: E402

MAILS = {
    "two_factor_enabled": {
        "en": dict(subject="Two-factor authentication is on", paragraphs=["Hello {{ first_name }},", "Two-factor authentication was just turned on for your Leman account: from now on, signing in also asks for a code from your authenticator app.", FACTS["en"], "Keep your recovery codes somewhere safe: each one lets you sign in once if you lose your device."], footer="Not you? Someone has your password: reset it at once and contact support."),
        "fr": dict(subject="La double authentification est activée", paragraphs=["Bonjour {{ first_name }},", "La double authentification vient d’être activée sur votre compte Leman : désormais, la connexion demande aussi un code de votre application d’authentification.", FACTS["fr"], "Gardez vos codes de récupération en lieu sûr : chacun permet de vous connecter une fois si vous perdez votre appareil."], footer="Ce n’était pas vous ? Quelqu’un connaît votre mot de passe : réinitialisez-le immédiatement et contactez le support."),
        "de": dict(subject="Die Zwei-Faktor-Authentifizierung ist aktiviert", paragraphs=["Hallo {{ first_name }},", "für Ihr Leman-Konto wurde soeben die Zwei-Faktor-Authentifizierung aktiviert: Bei der Anmeldung wird ab jetzt auch ein Code Ihrer Authenticator-App verlangt.", FACTS["de"], "Bewahren Sie Ihre Wiederherstellungscodes sicher auf: Jeder erlaubt eine Anmeldung, falls Sie Ihr Gerät verlieren."], footer="Waren Sie das nicht? Jemand kennt Ihr Passwort: Setzen Sie es sofort zurück und wenden Sie sich an den Support."),
        "it": dict(subject="L’autenticazione a due fattori è attiva", paragraphs=["Ciao {{ first_name }},", "l’autenticazione a due fattori è appena stata attivata sul tuo account Leman: d’ora in poi l’accesso chiede anche un codice della tua app di autenticazione.", FACTS["it"], "Conserva i codici di recupero in un posto sicuro: ognuno ti permette di accedere una volta se perdi il dispositivo."], footer="Non sei stato tu? Qualcuno conosce la tua password: reimpostala subito e contatta l’assistenza."),
        "es": dict(subject="La autenticación de dos factores está activada", paragraphs=["Hola {{ first_name }}:", "Se acaba de activar la autenticación de dos factores en tu cuenta de Leman: a partir de ahora, iniciar sesión también pide un código de tu aplicación de autenticación.", FACTS["es"], "Guarda tus códigos de recuperación en un lugar seguro: cada uno te permite iniciar sesión una vez si pierdes tu dispositivo."], footer="¿No fuiste tú? Alguien conoce tu contraseña: restablécela de inmediato y contacta con el soporte."),
    },
    "two_factor_disabled": {
        "en": dict(subject="Two-factor authentication is off", paragraphs=["Hello {{ first_name }},", "Two-factor authentication was just turned off for your Leman account: signing in now asks only for your password, and your recovery codes no longer work.", FACTS["en"]], footer="Not you? Change your password at once, turn two-factor authentication back on and end the other sessions in your connection log."),
        "fr": dict(subject="La double authentification est désactivée", paragraphs=["Bonjour {{ first_name }},", "La double authentification vient d’être désactivée sur votre compte Leman : la connexion ne demande plus que votre mot de passe, et vos codes de récupération ne fonctionnent plus.", FACTS["fr"]], footer="Ce n’était pas vous ? Changez immédiatement votre mot de passe, réactivez la double authentification et fermez les autres sessions dans votre journal de connexions."),
        "de": dict(subject="Die Zwei-Faktor-Authentifizierung ist deaktiviert", paragraphs=["Hallo {{ first_name }},", "für Ihr Leman-Konto wurde soeben die Zwei-Faktor-Authentifizierung deaktiviert: Bei der Anmeldung wird nur noch Ihr Passwort verlangt, und Ihre Wiederherstellungscodes gelten nicht mehr.", FACTS["de"]], footer="Waren Sie das nicht? Ändern Sie sofort Ihr Passwort, aktivieren Sie die Zwei-Faktor-Authentifizierung wieder und beenden Sie die anderen Sitzungen im Verbindungsprotokoll."),
        "it": dict(subject="L’autenticazione a due fattori è disattivata", paragraphs=["Ciao {{ first_name }},", "l’autenticazione a due fattori è appena stata disattivata sul tuo account Leman: per accedere basta ora la password, e i codici di recupero non funzionano più.", FACTS["it"]], footer="Non sei stato tu? Cambia subito la password, riattiva l’autenticazione a due fattori e chiudi le altre sessioni nel registro delle connessioni."),
        "es": dict(subject="La autenticación de dos factores está desactivada", paragraphs=["Hola {{ first_name }}:", "Se acaba de desactivar la autenticación de dos factores en tu cuenta de Leman: ahora iniciar sesión solo pide tu contraseña, y tus códigos de recuperación ya no sirven.", FACTS["es"]], footer="¿No fuiste tú? Cambia tu contraseña de inmediato, vuelve a activar la autenticación de dos factores y cierra las otras sesiones en tu registro de conexiones."),
    },
}

if __name__ == "__main__":
    generate(MAILS)
