"""A plain HTML form that the browser submits itself (Reflex's form always intercepts
submit to send an event; login and logout must reach the backend route instead)."""

from __future__ import annotations

from reflex_components_core.el.elements.forms import Form


class PostForm(Form):
    @classmethod
    def create(cls, *children, **props):  # noqa: ANN206
        props.setdefault("method", "post")
        # Skip Form.create, which installs a preventDefault submit handler.
        return super(Form, cls).create(*children, **props)


post_form = PostForm.create
