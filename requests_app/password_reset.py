"""Staff password reset through the e-mail outbox (retried, purged, on the record) and within the
rate limits, instead of Django's direct send."""
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm

from . import outbox, ratelimit


class OutboxPasswordResetForm(PasswordResetForm):
    def save(self, *args, request=None, **kwargs):
        email = self.cleaned_data["email"]
        if request is not None and not ratelimit.allow(request, "password_reset", email=email):
            return  # the page says the same either way: nothing tells who has an account
        super().save(*args, request=request, **kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        outbox.queue_email("password_reset", to_email, context={
            "username": context["user"].get_username(), "protocol": context["protocol"],
            "domain": context["domain"], "uid": context["uid"], "token": context["token"]})


password_reset = auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm)
