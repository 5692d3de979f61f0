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
    "Messages are limited to 4000 characters.": "Los mensajes tienen un máximo de 4000 caracteres.",
    "No such conversation.": "Esta conversación no existe.",
    "No such message.": "Este mensaje no existe.",
    "Rating is 1 (helpful) or -1 (not helpful).":
        "La valoración es 1 (me ha ayudado) o -1 (no me ha ayudado).",
    "No such ticket.": "Este ticket no existe.",
    "No such article.": "Este artículo no existe.",
    "No such feedback.": "Esta opinión no existe.",
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
    "Your session has expired. Please log in again.":
        "Tu sesión ha caducado. Vuelve a iniciar sesión.",
}

_PATTERNS = [
    (re.compile(r"^Password must be at least (\d+) characters long\.$"),
     "La contraseña debe tener al menos {0} caracteres."),
    (re.compile(r"^Password must be at most (\d+) characters long\.$"),
     "La contraseña puede tener como máximo {0} caracteres."),
    (re.compile(r"^E-mail address is not valid: .*$"), "La dirección de correo no es válida."),
]


def service_message(message: str, lang: str) -> str:
    if lang != "es":
        return message
    if message in _EXACT:
        return _EXACT[message]
    for pattern, spanish in _PATTERNS:
        match = pattern.match(message)
        if match:
            return spanish.format(*match.groups())
    return message
