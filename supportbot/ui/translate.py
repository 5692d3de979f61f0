"""Spanish for the messages services raise (they speak English, the page may not)."""

from __future__ import annotations

import re

_EXACT = {
    "Invalid username or password.": "Usuario o contraseña incorrectos.",
    "This username is already taken.": "Este nombre de usuario ya está en uso.",
    "taken": "ya está en uso",
    "An account with this e-mail already exists.": "Ya existe una cuenta con este correo.",
    "This username or e-mail is already taken.": "Este usuario o correo ya está en uso.",
    "Password is too repetitive.": "La contraseña es demasiado repetitiva.",
    "This password is too common; choose another.":
        "Esta contraseña es demasiado común; elige otra.",
    "Password must not contain your username or e-mail address.":
        "La contraseña no puede contener tu usuario ni tu correo.",
    "Current password is wrong.": "La contraseña actual no es correcta.",
    "The new password must differ from the current one.":
        "La nueva contraseña debe ser distinta de la actual.",
    "Username must be 3-64 characters: letters, digits, '.', '_' or '-', starting with a "
    "letter or digit.":
        "El usuario debe tener de 3 a 64 caracteres: letras, cifras, '.', '_' o '-', y "
        "empezar por una letra o una cifra.",
    "You do not have permission to do this.": "No tienes permiso para hacer esto.",
    "Write a message first.": "Escribe un mensaje primero.",
    "Write a comment first.": "Escribe un comentario primero.",
    "Rate the answer first.": "Valora primero la respuesta.",
    "Comments are at most 2,000 characters.": "Los comentarios tienen un máximo de 2000 caracteres.",
    "Password contains a character that cannot be used; type it again.":
        "La contraseña contiene un carácter que no se puede usar; escríbela de nuevo.",
    "Attachment names are plain file names inside the attachments folder.":
        "Los adjuntos se nombran con nombres de archivo dentro de la carpeta de adjuntos.",
    "Attachments are a list of file references with a name.":
        "Los adjuntos son una lista de referencias a archivos con nombre.",
    "Only admins see drafts.": "Solo los administradores ven los borradores.",
    "No such reindex job.": "Este trabajo de reindexado no existe.",
    "Messages are limited to 4000 characters.": "Los mensajes tienen un máximo de 4000 caracteres.",
    "No such conversation.": "Esta conversación no existe.",
    "No such message.": "Este mensaje no existe.",
    "Rating is 1 (helpful) or -1 (not helpful).":
        "La valoración es 1 (me ha ayudado) o -1 (no me ha ayudado).",
    "No such ticket.": "Este ticket no existe.",
    "No such article.": "Este artículo no existe.",
    "No such feedback.": "Esta opinión no existe.",
    "No such model version.": "Esta versión del modelo no existe.",
    "There is no earlier model version to roll back to.":
        "No hay una versión anterior del modelo a la que volver.",
    "Fine-tuning needs more alternative phrasings: at least 3 on several published "
    "articles, so that some can be held out to evaluate on.":
        "El ajuste fino necesita más formulaciones alternativas: al menos 3 en varios "
        "artículos publicados, para reservar algunas con las que evaluar.",
    "This feedback was already turned into an article.":
        "Esta opinión ya se convirtió en un artículo.",
    "The article has errors.": "El artículo tiene errores.",
    "A title is required.": "El título es obligatorio.",
    "Write the problem or the solution (or both).":
        "Escribe el problema o la solución (o ambos).",
    "Status must be draft or published.": "El estado es borrador o publicado.",
    "The escalation rules have errors.": "Las reglas de escalado tienen errores.",
    "The threshold is a number from 0 to 1.": "El umbral es un número de 0 a 1.",
    "Each keyword needs a phrase and a priority (low, normal, high, urgent).":
        "Cada palabra clave necesita una frase y una prioridad (low, normal, high, urgent).",
    "Unresolved turns is a whole number from 1 to 20.":
        "Las respuestas sin resolver son un número entero de 1 a 20.",
    "Routing maps a tag or keyword to a queue name.":
        "El enrutado asigna una etiqueta o palabra clave a una cola.",
    "This ticket has no conversation to reply in.":
        "Este ticket no tiene una conversación en la que responder.",
    "Unknown assignee.": "Persona asignada desconocida.",
    "Unknown status.": "Estado desconocido.",
    "Unknown priority.": "Prioridad desconocida.",
    "The ticket change has errors.": "El cambio del ticket tiene errores.",
    "This account is deactivated. Contact an administrator.":
        "Esta cuenta está desactivada. Contacta con un administrador.",
    "The last active administrator cannot be deactivated.":
        "No se puede desactivar al último administrador activo.",
    "The last active administrator cannot lose the admin role.":
        "El último administrador activo no puede perder el rol de administrador.",
    "Invalid credentials. Please log in again.":
        "Credenciales no válidas. Vuelve a iniciar sesión.",
    "No such user.": "Ese usuario no existe.",
    "Please log in.": "Inicia sesión.",
    "No such suggestion.": "Esta sugerencia no existe.",
    "This suggestion was already decided.": "Esta sugerencia ya se aceptó o se rechazó.",
    "The suggestion has errors.": "La sugerencia tiene errores.",
    "Give at least one phrasing.": "Escribe al menos una formulación.",
    "No such digest job.": "Este trabajo de resumen no existe.",
    "Your session has expired. Please log in again.":
        "Tu sesión ha caducado. Vuelve a iniciar sesión.",
    "This message is already being answered; send it again in a few seconds to get the "
    "answer.":
        "Este mensaje ya se está respondiendo; envíalo de nuevo en unos segundos para ver "
        "la respuesta.",
    "This client message id was already used for another message.":
        "Este identificador de mensaje ya se usó para otro mensaje.",
    "This message was not answered and others were sent after it; send it as a new "
    "message, with a new client message id.":
        "Este mensaje no se respondió y después se enviaron otros; envíalo como un mensaje "
        "nuevo, con un identificador nuevo.",
    "A client message id is 1 to 64 letters, digits, '.', '_', ':' or '-'.":
        "Un identificador de mensaje tiene de 1 a 64 letras, cifras, '.', '_', ':' o '-'.",
}

_PATTERNS = [
    (re.compile(r"^Password must be at least (\d+) characters long\.$"),
     "La contraseña debe tener al menos {0} caracteres."),
    (re.compile(r"^Password must be at most (\d+) characters long\.$"),
     "La contraseña puede tener como máximo {0} caracteres."),
    (re.compile(r"^E-mail address is not valid: .*$"), "La dirección de correo no es válida."),
    (re.compile(r"^The title is longer than (\d+) characters\.$"),
     "El título tiene más de {0} caracteres."),
    (re.compile(r"^The article is longer than (\d+) characters\.$"),
     "El artículo tiene más de {0} caracteres."),
    (re.compile(r"^At most (\d+) phrasings of up to 500 characters\.$"),
     "Como máximo {0} formulaciones de hasta 500 caracteres."),
    (re.compile(r"^Language must be one of: (.*)\.$"), "El idioma debe ser uno de: {0}."),
]
_UNSTORABLE = (re.compile(r"^The (.+) contains a character that cannot be stored "
                          r"\((U\+[0-9A-F]+)\); remove it and try again\.$"),
               "{0} contiene un carácter que no se puede guardar ({1}); quítalo y vuelve a "
               "intentarlo.")
# The fields `input_guard` names, as the Spanish sentence starts.
_FIELDS = {"message": "El mensaje", "title": "El título", "problem": "El problema",
           "solution": "La solución", "tags": "Las etiquetas", "phrasings": "Las formulaciones",
           "comment": "El comentario", "note": "La nota", "description": "La descripción",
           "keywords": "Las palabras clave", "person phrases": "Las frases para pedir una persona",
           "routing": "El enrutado"}


def service_message(message: str, lang: str) -> str:
    if lang != "es":
        return message
    if message in _EXACT:
        return _EXACT[message]
    pattern, spanish = _UNSTORABLE
    match = pattern.match(message)
    if match:
        field, code = match.groups()
        return spanish.format(_FIELDS.get(field, f"«{field}»"), code)
    for pattern, spanish in _PATTERNS:
        match = pattern.match(message)
        if match:
            return spanish.format(*match.groups())
    return message
