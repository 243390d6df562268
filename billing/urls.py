from django.urls import path

from billing import apis, views

api_urlpatterns = [
    path("usage", apis.UsageApi.as_view(), name="usage"),
    path("invoices", apis.InvoiceListApi.as_view(), name="invoice-list"),
    path("invoices/<str:month>", apis.InvoiceDetailApi.as_view(), name="invoice-detail"),
    path("credits", apis.CreditsApi.as_view(), name="credits"),
    path("billing/webhook", apis.ProviderWebhookApi.as_view(), name="billing-webhook"),
]

page_urlpatterns = [
    path("billing/", views.billing_home, name="billing-home"),
    path("billing/invoices/<str:month>/", views.invoice_page, name="billing-invoice"),
    path("billing/invoices/<str:month>/csv", views.invoice_csv, name="billing-invoice-csv"),
    path("billing/credits/", views.credits_page, name="billing-credits"),
    path("billing/fake-checkout/<str:checkout_id>/", views.fake_checkout, name="billing-fake-checkout"),
    path("billing/payment-method/", views.payment_method_manage, name="billing-payment-method"),
    path(
        "billing/fake-payment-method/<str:session_id>/", views.fake_payment_method, name="billing-fake-payment-method"
    ),
]
