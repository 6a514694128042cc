from django.urls import path

from .views import public, public_status

urlpatterns = [
    # The request form (views/public.py explains the session wizard).
    path("", public.start, name="start"),
    path("request/rights/", public.rights, name="rights"),
    path("request/what/", public.requests_step, name="requests"),
    path("request/about-you/", public.identity, name="identity"),
    path("request/review/", public.review, name="review"),
    path("request/thank-you/", public.thanks, name="thanks"),
    path("opt-out/", public.opt_out, name="opt_out"),
    # Signed links from e-mails.
    path("confirm/<str:token>/", public.confirm, name="confirm"),
    path("agent-permission/<str:token>/", public.agent_permission, name="agent_permission"),
    path("status/<str:token>/", public_status.status, name="status"),
    path("status/<str:token>/reply/", public_status.reply, name="reply"),
    path("status/<str:token>/withdraw/", public_status.withdraw, name="withdraw"),
    path("status/<str:token>/appeal/", public_status.appeal, name="appeal"),
    path("status/<str:token>/letters/<int:letter_id>/", public_status.letter, name="letter"),
    path("status/<str:token>/letters/<int:letter_id>/<slug:part>/", public_status.letter, name="letter_part"),
    path("status-link/", public_status.resend, name="resend"),
]
