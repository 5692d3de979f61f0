"""Every visible string in English and Spanish.

`t("key")` gives a Var that follows the page language (SessionState.lang); `text_for`
gives the plain string for code that runs in the backend.
"""

from __future__ import annotations

import reflex as rx

LANGUAGES = ("en", "es")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (English, Spanish)
    "brand.tagline": ("Technical support, answered.", "Soporte técnico, resuelto."),
    "nav.help_center": ("Help center", "Centro de ayuda"),
    "nav.login": ("Log in", "Iniciar sesión"),
    "nav.register": ("Sign up", "Crear cuenta"),
    "nav.account": ("My account", "Mi cuenta"),
    "nav.logout": ("Log out", "Cerrar sesión"),
    "nav.language": ("Language", "Idioma"),
    "kb.title": ("Help center", "Centro de ayuda"),
    "kb.subtitle": ("Answers to common IT problems, in English and Spanish.",
                    "Respuestas a problemas informáticos frecuentes, en inglés y en español."),
    "kb.search": ("Search articles…", "Buscar artículos…"),
    "kb.search_button": ("Search", "Buscar"),
    "kb.all_languages": ("All languages", "Todos los idiomas"),
    "kb.lang_en": ("English", "Inglés"),
    "kb.lang_es": ("Spanish", "Español"),
    "kb.empty": ("No article matches your search.", "Ningún artículo coincide con tu búsqueda."),
    "kb.count": ("articles", "artículos"),
    "kb.problem": ("Problem", "Problema"),
    "kb.solution": ("Solution", "Solución"),
    "kb.also_asked": ("People also ask it like this", "También se pregunta así"),
    "kb.back": ("Back to the help center", "Volver al centro de ayuda"),
    "kb.not_found": ("This article does not exist or is not published.",
                     "Este artículo no existe o no está publicado."),
    "kb.version": ("Version", "Versión"),
    "kb.updated": ("Updated", "Actualizado"),
    "login.title": ("Log in", "Iniciar sesión"),
    "login.username": ("Username or e-mail", "Usuario o correo electrónico"),
    "login.password": ("Password", "Contraseña"),
    "login.submit": ("Log in", "Entrar"),
    "login.no_account": ("No account yet?", "¿Aún no tienes cuenta?"),
    "login.registered": ("Account created. You can log in now.",
                         "Cuenta creada. Ya puedes iniciar sesión."),
    "login.password_changed": ("Password changed. Log in with the new one.",
                               "Contraseña cambiada. Entra con la nueva."),
    "login.logged_out": ("You have logged out.", "Has cerrado la sesión."),
    "error.invalid_credentials": ("Invalid username or password.",
                                  "Usuario o contraseña incorrectos."),
    "error.account_deactivated": ("This account is deactivated. Contact an administrator.",
                                  "Esta cuenta está desactivada. Contacta con un administrador."),
    "error.session_expired": ("Your session has expired. Please log in again.",
                              "Tu sesión ha caducado. Vuelve a iniciar sesión."),
    "error.not_authenticated": ("Please log in to continue.",
                                "Inicia sesión para continuar."),
    "error.permission_denied": ("You do not have permission to do this.",
                                "No tienes permiso para hacer esto."),
    "error.generic": ("Something went wrong. Please try again.",
                      "Algo ha fallado. Vuelve a intentarlo."),
    "register.title": ("Create your account", "Crea tu cuenta"),
    "register.username": ("Username", "Nombre de usuario"),
    "register.email": ("E-mail", "Correo electrónico"),
    "register.password": ("Password", "Contraseña"),
    "register.password_hint": ("At least 10 characters. A short sentence works well.",
                               "Al menos 10 caracteres. Una frase corta funciona bien."),
    "register.submit": ("Create account", "Crear cuenta"),
    "register.have_account": ("Already have an account?", "¿Ya tienes cuenta?"),
    "account.title": ("My account", "Mi cuenta"),
    "account.username": ("Username", "Usuario"),
    "account.email": ("E-mail", "Correo electrónico"),
    "account.role": ("Role", "Rol"),
    "account.change_password": ("Change password", "Cambiar contraseña"),
    "account.current_password": ("Current password", "Contraseña actual"),
    "account.new_password": ("New password", "Nueva contraseña"),
    "account.save_password": ("Change password", "Cambiar contraseña"),
    "role.user": ("User", "Usuario"),
    "role.agent": ("Agent", "Agente"),
    "role.admin": ("Administrator", "Administrador"),
    "home.title": ("How can we help?", "¿En qué podemos ayudarte?"),
    "nav.chat": ("Chat", "Chat"),
    "nav.desk": ("Desk", "Mesa de soporte"),
    "nav.tickets": ("My tickets", "Mis tickets"),
    "nav.rules": ("Rules", "Reglas"),
    "nav.deliveries": ("Notifications", "Notificaciones"),
    "rules.title": ("Escalation rules", "Reglas de escalado"),
    "rules.threshold": ("Confidence threshold", "Umbral de confianza"),
    "rules.threshold_help": ("0 to 1. Below it the bot hands over instead of answering.",
                             "De 0 a 1. Por debajo, el bot pasa la conversación en vez de "
                             "responder."),
    "rules.turns": ("Unresolved answers before a hand-over",
                    "Respuestas sin resolver antes de pasar a una persona"),
    "rules.turns_help": ("Answers marked unhelpful or asked about again (1-20).",
                         "Respuestas marcadas como inútiles o repreguntadas (1-20)."),
    "rules.keywords": ("Keywords", "Palabras clave"),
    "rules.keywords_help": ("One per line, \"phrase: priority\" (low, normal, high, urgent). A "
                            "message containing one goes to a person at once.",
                            "Una por línea, \"frase: prioridad\" (low, normal, high, urgent). "
                            "Un mensaje que la contenga pasa a una persona enseguida."),
    "rules.person": ("Phrases asking for a person", "Frases que piden una persona"),
    "rules.person_help": ("One per line, in Spanish or English.",
                          "Una por línea, en español o en inglés."),
    "rules.routing": ("Routing", "Enrutado"),
    "rules.routing_help": ("One per line, \"tag or keyword: queue\".",
                           "Una por línea, \"etiqueta o palabra clave: cola\"."),
    "rules.save": ("Save rules", "Guardar reglas"),
    "rules.saved": ("Rules saved. They apply to the next message.",
                    "Reglas guardadas. Se aplican desde el siguiente mensaje."),
    "deliveries.title": ("Notification deliveries", "Envíos de notificaciones"),
    "deliveries.only_failed": ("Only failed ones", "Solo los fallidos"),
    "deliveries.created": ("Created", "Creado"),
    "deliveries.channel": ("Channel", "Canal"),
    "deliveries.target": ("Recipient", "Destinatario"),
    "deliveries.status": ("Status", "Estado"),
    "deliveries.attempts": ("Attempts", "Intentos"),
    "deliveries.error": ("Last error", "Último error"),
    "tickets.title": ("My tickets", "Mis tickets"),
    "tickets.empty": ("You have no tickets. When the bot hands a conversation of yours to "
                      "the support team, it appears here.",
                      "No tienes tickets. Cuando el bot pase una conversación tuya al equipo "
                      "de soporte, aparecerá aquí."),
    "desk.title": ("Ticket queue", "Cola de tickets"),
    "desk.all": ("All", "Todos"),
    "desk.status": ("Status", "Estado"),
    "desk.priority": ("Priority", "Prioridad"),
    "desk.assignee": ("Assignee", "Asignado a"),
    "desk.search": ("Search title, reference, note…", "Buscar título, referencia, nota…"),
    "desk.open": ("Open", "Abierto"),
    "desk.in_progress": ("In progress", "En curso"),
    "desk.waiting": ("Waiting", "En espera"),
    "desk.closed": ("Closed", "Cerrado"),
    "desk.low": ("Low", "Baja"),
    "desk.normal": ("Normal", "Normal"),
    "desk.high": ("High", "Alta"),
    "desk.urgent": ("Urgent", "Urgente"),
    "desk.me": ("Me", "Yo"),
    "desk.none": ("Nobody", "Nadie"),
    "desk.col_ref": ("Ticket", "Ticket"),
    "desk.col_title": ("Title", "Título"),
    "desk.col_priority": ("Priority", "Prioridad"),
    "desk.col_status": ("Status", "Estado"),
    "desk.col_queue": ("Queue", "Cola"),
    "desk.col_reason": ("Reason", "Motivo"),
    "desk.col_assignee": ("Assignee", "Asignado a"),
    "desk.col_created": ("Created", "Creado"),
    "desk.empty": ("No ticket matches.", "Ningún ticket coincide."),
    "desk.previous": ("Previous page", "Página anterior"),
    "desk.next": ("Next page", "Página siguiente"),
    "desk.back": ("Back to the queue", "Volver a la cola"),
    "desk.take": ("Take it", "Asignármelo"),
    "desk.hand_back": ("Hand back to the bot", "Devolver al bot"),
    "desk.close": ("Close ticket", "Cerrar ticket"),
    "desk.handoff": ("Handoff note", "Nota de traspaso"),
    "desk.internal": ("internal", "interna"),
    "desk.internal_note": ("Internal note (agents only)", "Nota interna (solo agentes)"),
    "desk.reply": ("Reply to the user…", "Responder al usuario…"),
    "desk.send": ("Send", "Enviar"),
    "desk.not_found": ("This ticket does not exist.", "Este ticket no existe."),
    "chat.welcome": ("Hi! Describe your problem and I'll look for the answer in our help "
                     "center. You can ask for a person at any time.",
                     "¡Hola! Cuéntame tu problema y buscaré la respuesta en nuestro centro de "
                     "ayuda. Puedes pedir hablar con una persona cuando quieras."),
    "chat.placeholder": ("Type your message…", "Escribe tu mensaje…"),
    "chat.send": ("Send", "Enviar"),
    "chat.person": ("Talk to a person", "Hablar con una persona"),
    "chat.new": ("New conversation", "Nueva conversación"),
    "chat.sources": ("Source", "Fuente"),
    "chat.helpful": ("Helpful", "Me ha ayudado"),
    "chat.not_helpful": ("Not helpful", "No me ha ayudado"),
    "chat.thanks": ("Thanks for your feedback.", "Gracias por tu opinión."),
    "chat.typing": ("SupportBot is looking for an answer…", "SupportBot está buscando una respuesta…"),
    "chat.ticket": ("Your ticket", "Tu ticket"),
    "chat.with_people": ("The support team will answer here.",
                         "El equipo de soporte te responderá aquí."),
    "chat.error": ("Your message could not be sent. It is still in the box: try again.",
                   "No se pudo enviar tu mensaje. Sigue en el cuadro: inténtalo de nuevo."),
    "chat.you": ("You", "Tú"),
    "chat.bot": ("SupportBot", "SupportBot"),
    "chat.agent": ("Support team", "Equipo de soporte"),
    "chat.system": ("SupportBot", "SupportBot"),
}


def text_for(key: str, lang: str) -> str:
    english, spanish = MESSAGES[key]
    return spanish if lang == "es" else english


def t(key: str) -> rx.Var:
    """The message `key` in the page's language."""
    from supportbot.ui.state import SessionState

    english, spanish = MESSAGES[key]
    return rx.cond(SessionState.lang == "es", spanish, english)


def browser_language(accept_language: str) -> str:
    """The first supported language in an Accept-Language header; English otherwise."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
