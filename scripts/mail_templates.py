#!/usr/bin/env python3
"""Writes mail templates for every language from one table (run from the repository root:
`python3 scripts/mail_templates.py`). Each mail: subject, paragraphs (text), an optional button
(label, link variable) and an optional footer. Placeholders are minijinja expressions."""
import os, sys

LANGS = ["en", "fr", "de", "it", "es"]

def write(name, lang, subject, paragraphs, button=None, footer=None):
    d = os.path.join("api/mail/templates", lang)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".subject"), "w") as f:
        f.write(subject + "\n")
    text = "\n\n".join(paragraphs)
    if button:
        text += "\n\n{{ " + button[1] + " }}"
    if footer:
        text += "\n\n" + footer
    with open(os.path.join(d, name + ".txt"), "w") as f:
        f.write(text + "\n")
    html = ['{% extends "layout.html" %}', "{% block title %}" + subject + "{% endblock %}", "{% block body %}"]
    for p in paragraphs:
        html.append("<p>" + p.replace("\n", "<br>") + "</p>")
    if button:
        html.append('<p><a href="{{ ' + button[1] + ' }}" style="background: #0b5fff; color: #fff; padding: 10px 16px; border-radius: 6px; text-decoration: none;">' + button[0] + "</a></p>")
    html.append("{% endblock %}")
    if footer:
        html.append("{% block footer %}" + footer + "{% endblock %}")
    with open(os.path.join(d, name + ".html"), "w") as f:
        f.write("\n".join(html) + "\n")

def generate(mails):
    for name, per_lang in mails.items():
        for lang in LANGS:
            write(name, lang, **per_lang[lang])

# Facts of a sign-in, shared by the alert and lock mails.
FACTS = {
    "en": "Time: {{ time }}\nIP address: {{ ip }}\nDevice: {{ device }}",
    "fr": "Heure : {{ time }}\nAdresse IP : {{ ip }}\nAppareil : {{ device }}",
    "de": "Zeit: {{ time }}\nIP-Adresse: {{ ip }}\nGerät: {{ device }}",
    "it": "Ora: {{ time }}\nIndirizzo IP: {{ ip }}\nDispositivo: {{ device }}",
    "es": "Hora: {{ time }}\nDirección IP: {{ ip }}\nDispositivo: {{ device }}",
}

MAILS = {
    "signup_existing": {
        "en": dict(subject="Someone tried to create an account with your address", paragraphs=["Hello {{ first_name }},", "Someone tried to create a Leman account with this email address, which already has one. If it was you, sign in: {{ login_link }}", "Forgot your password? Reset it here: {{ reset_link }}"], footer="If it was not you, you can ignore this message; your account is unchanged."),
        "fr": dict(subject="Quelqu’un a tenté de créer un compte avec votre adresse", paragraphs=["Bonjour {{ first_name }},", "Quelqu’un a tenté de créer un compte Leman avec cette adresse e-mail, qui en possède déjà un. Si c’était vous, connectez-vous : {{ login_link }}", "Mot de passe oublié ? Réinitialisez-le ici : {{ reset_link }}"], footer="Si ce n’était pas vous, ignorez ce message ; votre compte n’a pas changé."),
        "de": dict(subject="Jemand wollte mit Ihrer Adresse ein Konto erstellen", paragraphs=["Hallo {{ first_name }},", "jemand wollte mit dieser E-Mail-Adresse, die bereits ein Leman-Konto hat, ein Konto erstellen. Wenn Sie das waren, melden Sie sich an: {{ login_link }}", "Passwort vergessen? Hier zurücksetzen: {{ reset_link }}"], footer="Wenn Sie das nicht waren, ignorieren Sie diese Nachricht; Ihr Konto ist unverändert."),
        "it": dict(subject="Qualcuno ha provato a creare un account con il tuo indirizzo", paragraphs=["Ciao {{ first_name }},", "qualcuno ha provato a creare un account Leman con questo indirizzo e-mail, che ne ha già uno. Se sei stato tu, accedi: {{ login_link }}", "Password dimenticata? Reimpostala qui: {{ reset_link }}"], footer="Se non sei stato tu, ignora questo messaggio; il tuo account non è cambiato."),
        "es": dict(subject="Alguien intentó crear una cuenta con tu dirección", paragraphs=["Hola {{ first_name }}:", "Alguien intentó crear una cuenta de Leman con esta dirección de correo, que ya tiene una. Si fuiste tú, inicia sesión: {{ login_link }}", "¿Olvidaste tu contraseña? Restablécela aquí: {{ reset_link }}"], footer="Si no fuiste tú, ignora este mensaje; tu cuenta no ha cambiado."),
    },
    "login_succeeded": {
        "en": dict(subject="New sign-in to your Leman account", paragraphs=["Hello {{ first_name }},", "Your account was just signed in to.", FACTS["en"]], footer="Not you? Change your password at once and end the other sessions in your connection log."),
        "fr": dict(subject="Nouvelle connexion à votre compte Leman", paragraphs=["Bonjour {{ first_name }},", "Une connexion à votre compte vient d’avoir lieu.", FACTS["fr"]], footer="Ce n’était pas vous ? Changez immédiatement votre mot de passe et fermez les autres sessions dans votre journal de connexions."),
        "de": dict(subject="Neue Anmeldung bei Ihrem Leman-Konto", paragraphs=["Hallo {{ first_name }},", "soeben hat sich jemand bei Ihrem Konto angemeldet.", FACTS["de"]], footer="Waren Sie das nicht? Ändern Sie sofort Ihr Passwort und beenden Sie die anderen Sitzungen im Verbindungsprotokoll."),
        "it": dict(subject="Nuovo accesso al tuo account Leman", paragraphs=["Ciao {{ first_name }},", "è appena stato effettuato un accesso al tuo account.", FACTS["it"]], footer="Non sei stato tu? Cambia subito la password e chiudi le altre sessioni nel registro delle connessioni."),
        "es": dict(subject="Nuevo inicio de sesión en tu cuenta de Leman", paragraphs=["Hola {{ first_name }}:", "Se acaba de iniciar sesión en tu cuenta.", FACTS["es"]], footer="¿No fuiste tú? Cambia tu contraseña de inmediato y cierra las otras sesiones en tu registro de conexiones."),
    },
    "login_failed": {
        "en": dict(subject="Failed sign-in to your Leman account", paragraphs=["Hello {{ first_name }},", "Someone just failed to sign in to your account.", FACTS["en"]], footer="If it was not you, nothing is lost, but consider a stronger password and two-factor authentication."),
        "fr": dict(subject="Échec de connexion à votre compte Leman", paragraphs=["Bonjour {{ first_name }},", "Une tentative de connexion à votre compte vient d’échouer.", FACTS["fr"]], footer="Si ce n’était pas vous, rien n’est perdu, mais pensez à un mot de passe plus fort et à la double authentification."),
        "de": dict(subject="Fehlgeschlagene Anmeldung bei Ihrem Leman-Konto", paragraphs=["Hallo {{ first_name }},", "soeben ist ein Anmeldeversuch bei Ihrem Konto fehlgeschlagen.", FACTS["de"]], footer="Wenn Sie das nicht waren, ist nichts verloren; erwägen Sie aber ein stärkeres Passwort und die Zwei-Faktor-Authentifizierung."),
        "it": dict(subject="Accesso non riuscito al tuo account Leman", paragraphs=["Ciao {{ first_name }},", "un tentativo di accesso al tuo account è appena fallito.", FACTS["it"]], footer="Se non sei stato tu, nulla è perduto, ma valuta una password più forte e l’autenticazione a due fattori."),
        "es": dict(subject="Inicio de sesión fallido en tu cuenta de Leman", paragraphs=["Hola {{ first_name }}:", "Alguien acaba de fallar al iniciar sesión en tu cuenta.", FACTS["es"]], footer="Si no fuiste tú, no se ha perdido nada, pero considera una contraseña más fuerte y la autenticación de dos factores."),
    },
    "account_locked": {
        "en": dict(subject="Your Leman account is locked", paragraphs=["Hello {{ first_name }},", "After {{ attempts }} failed sign-in attempts your account was locked to protect it. Nobody can sign in until it is unlocked.", FACTS["en"], "Unlock it with the link below (valid {{ minutes }} minutes, usable once), or ask an administrator of your organisation."], button=("Unlock my account", "link"), footer="If these attempts were not yours, change your password after unlocking."),
        "fr": dict(subject="Votre compte Leman est verrouillé", paragraphs=["Bonjour {{ first_name }},", "Après {{ attempts }} tentatives de connexion échouées, votre compte a été verrouillé pour le protéger. Personne ne peut s’y connecter tant qu’il n’est pas déverrouillé.", FACTS["fr"], "Déverrouillez-le avec le lien ci-dessous (valable {{ minutes }} minutes, utilisable une fois), ou demandez à un administrateur de votre organisation."], button=("Déverrouiller mon compte", "link"), footer="Si ces tentatives ne venaient pas de vous, changez votre mot de passe après le déverrouillage."),
        "de": dict(subject="Ihr Leman-Konto ist gesperrt", paragraphs=["Hallo {{ first_name }},", "nach {{ attempts }} fehlgeschlagenen Anmeldeversuchen wurde Ihr Konto zu seinem Schutz gesperrt. Niemand kann sich anmelden, bis es entsperrt ist.", FACTS["de"], "Entsperren Sie es über den Link unten ({{ minutes }} Minuten gültig, einmal verwendbar) oder fragen Sie einen Administrator Ihrer Organisation."], button=("Konto entsperren", "link"), footer="Wenn diese Versuche nicht von Ihnen stammen, ändern Sie nach dem Entsperren Ihr Passwort."),
        "it": dict(subject="Il tuo account Leman è bloccato", paragraphs=["Ciao {{ first_name }},", "dopo {{ attempts }} tentativi di accesso falliti il tuo account è stato bloccato per proteggerlo. Nessuno può accedere finché non viene sbloccato.", FACTS["it"], "Sbloccalo con il link qui sotto (valido {{ minutes }} minuti, utilizzabile una volta) o chiedi a un amministratore della tua organizzazione."], button=("Sblocca il mio account", "link"), footer="Se questi tentativi non erano tuoi, cambia la password dopo lo sblocco."),
        "es": dict(subject="Tu cuenta de Leman está bloqueada", paragraphs=["Hola {{ first_name }}:", "Tras {{ attempts }} intentos fallidos de inicio de sesión, tu cuenta se ha bloqueado para protegerla. Nadie puede iniciar sesión hasta que se desbloquee.", FACTS["es"], "Desbloquéala con el enlace de abajo (válido {{ minutes }} minutos, de un solo uso) o pide ayuda a un administrador de tu organización."], button=("Desbloquear mi cuenta", "link"), footer="Si estos intentos no fueron tuyos, cambia tu contraseña después de desbloquearla."),
    },
}

if __name__ == "__main__":
    generate(MAILS)
