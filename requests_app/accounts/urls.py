from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("2fa/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("profile/", views.profile, name="profile"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
