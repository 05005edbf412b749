"""Pages for people without an account: the provider upload link (mounted at /u/)."""

urlpatterns: list = []
