#!/usr/bin/env python3
"""Mail templates of the security area (run from the repository root:
`python3 scripts/mail_templates_security.py`): the unlock link asked for with
`POST /v1/auth/unlock/request`."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mail_templates import generate, FACTS  # noqa: E402

MAILS = {
    "unlock_link": {
        "en": dict(subject="Unlock your Leman account", paragraphs=["Hello {{ first_name }},", "A link to unlock your account was requested:", FACTS["en"], "Your account stays locked until the link below is followed (valid {{ minutes }} minutes, usable once); any earlier unlock link no longer works."], button=("Unlock my account", "link"), footer="If you did not ask for this, ignore this message. Someone tried to sign in to your account: after unlocking, consider changing your password."),
        "fr": dict(subject="Déverrouillez votre compte Leman", paragraphs=["Bonjour {{ first_name }},", "Un lien pour déverrouiller votre compte a été demandé :", FACTS["fr"], "Votre compte reste verrouillé jusqu’à ce que le lien ci-dessous soit suivi (valable {{ minutes }} minutes, utilisable une fois) ; tout lien de déverrouillage précédent ne fonctionne plus."], button=("Déverrouiller mon compte", "link"), footer="Si vous n’avez rien demandé, ignorez ce message. Quelqu’un a tenté de se connecter à votre compte : après le déverrouillage, pensez à changer votre mot de passe."),
        "de": dict(subject="Entsperren Sie Ihr Leman-Konto", paragraphs=["Hallo {{ first_name }},", "es wurde ein Link zum Entsperren Ihres Kontos angefordert:", FACTS["de"], "Ihr Konto bleibt gesperrt, bis der Link unten aufgerufen wird ({{ minutes }} Minuten gültig, einmal verwendbar); frühere Entsperr-Links funktionieren nicht mehr."], button=("Konto entsperren", "link"), footer="Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht. Jemand hat versucht, sich bei Ihrem Konto anzumelden: Ändern Sie nach dem Entsperren am besten Ihr Passwort."),
        "it": dict(subject="Sblocca il tuo account Leman", paragraphs=["Ciao {{ first_name }},", "è stato richiesto un link per sbloccare il tuo account:", FACTS["it"], "L’account resta bloccato finché non viene seguito il link qui sotto (valido {{ minutes }} minuti, utilizzabile una volta); i link di sblocco precedenti non funzionano più."], button=("Sblocca il mio account", "link"), footer="Se non l’hai richiesto tu, ignora questo messaggio. Qualcuno ha provato ad accedere al tuo account: dopo lo sblocco, valuta di cambiare la password."),
        "es": dict(subject="Desbloquea tu cuenta de Leman", paragraphs=["Hola {{ first_name }}:", "Se ha solicitado un enlace para desbloquear tu cuenta:", FACTS["es"], "Tu cuenta sigue bloqueada hasta que se siga el enlace de abajo (válido {{ minutes }} minutos, de un solo uso); los enlaces de desbloqueo anteriores ya no funcionan."], button=("Desbloquear mi cuenta", "link"), footer="Si no lo has solicitado, ignora este mensaje. Alguien intentó iniciar sesión en tu cuenta: después de desbloquearla, considera cambiar tu contraseña."),
    },
}

if __name__ == "__main__":
    generate(MAILS)
