"""A partner's integration written only against the Python client generated from
openapi/openapi.json (package `leman_client`, built by scripts/clients/run.sh).

The flow: sign in -> profile -> organisation -> order paid by the sandbox card -> invoices
filtered by status -> one invoice -> prepaid top-up -> a personal token used for a read ->
a 422 whose problem fields are read through the client's types.

Every answer is checked; the first unexpected one stops the run with a message.
Environment: LEMAN_URL, LEMAN_EMAIL, LEMAN_PASSWORD.
"""

from __future__ import annotations

import os
import sys
import uuid
from decimal import Decimal
from typing import TypeVar

from leman_client import AuthenticatedClient, Client
from leman_client.api.accounts import get_me
from leman_client.api.auth import login
from leman_client.api.billing import (
    create_order,
    create_payment_method,
    get_invoice,
    get_prepaid_account,
    list_invoices,
    top_up_prepaid_account,
)
from leman_client.api.organizations import create_organization, get_organization
from leman_client.api.tokens import create_token
from leman_client.models import (
    BillingAddress,
    CreateOrder,
    CreateOrganization,
    CreatePaymentMethod,
    CreateToken,
    CreatedApiToken,
    Currency,
    InvoiceDetailView,
    InvoiceList,
    InvoiceStatus,
    LoginInput,
    Me,
    MethodType,
    MfaRequired,
    Money,
    OrderItem,
    OrderItemOptions,
    OrderView,
    OrganizationView,
    PaymentInput,
    PaymentMethodKind,
    PaymentMethodView,
    PaymentStatus,
    PaymentView,
    PrepaidAccountView,
    Problem,
    Scope,
    TokenKind,
    Tokens,
    TopUpRequest,
)
from leman_client.types import Response

T = TypeVar("T")


def step(message: str) -> None:
    print(f"clients/python: {message}", flush=True)


def expect(response: Response[T | Problem], status: int, kind: type[T]) -> T:
    """The parsed answer when it has the expected status and type; otherwise stop."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        sys.exit(
            f"clients/python: expected {status} {kind.__name__}, got {response.status_code}: "
            f"{response.content[:500]!r}"
        )
    return parsed


def main() -> None:
    base_url = os.environ["LEMAN_URL"]
    email = os.environ["LEMAN_EMAIL"]
    password = os.environ["LEMAN_PASSWORD"]

    # 1. Sign in. The answer is either tokens or "a second factor is needed" (oneOf).
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    outcome = login.sync_detailed(client=anonymous, body=LoginInput(email=email, password=password))
    if outcome.status_code != 200 or isinstance(outcome.parsed, (MfaRequired, Problem)):
        sys.exit(f"clients/python: login: {outcome.status_code} {outcome.content[:300]!r}")
    tokens = outcome.parsed
    assert isinstance(tokens, Tokens)
    assert tokens.token_type == "Bearer" and tokens.expires_in > 0
    step(f"signed in, session {tokens.session_id}")
    client = AuthenticatedClient(base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True)

    # 2. The profile.

    me = expect(get_me.sync_detailed(client=client), 200, Me)
    assert me.email == email, me.email
    step(f"profile of {me.email} ({me.id})")

    # 3. An organisation, billed in CHF in Switzerland.

    org = expect(
        create_organization.sync_detailed(
            client=client,
            body=CreateOrganization(
                name="Client Flow Sàrl",
                country="CH",
                currency=Currency.CHF,
                billing_address=BillingAddress(line1="Rue du Rhône 12", postal_code="1204", city="Genève"),
            ),
        ),
        201,
        OrganizationView,
    )
    step(f"organisation {org.id}")

    # 4. A card saved from the sandbox provider's test token, then an order paid with it.

    card = expect(
        create_payment_method.sync_detailed(
            org.id, client=client, body=CreatePaymentMethod(type_=MethodType.CARD, token="tok_visa")
        ),
        201,
        PaymentMethodView,
    )
    options = OrderItemOptions()
    options["users"] = 25  # five beyond the 20 included: billed
    order = expect(
        create_order.sync_detailed(
            org.id,
            client=client,
            idempotency_key=str(uuid.uuid4()),
            body=CreateOrder(
                items=[OrderItem(offer_id="ksuite-pro", billing_period="P1Y", options=options)],
                payment=PaymentInput(method=PaymentMethodKind.PAYMENT_METHOD, payment_method_id=card.id),
            ),
        ),
        201,
        OrderView,
    )
    assert isinstance(order.payment, PaymentView), "the order was not paid"
    assert order.payment.status == PaymentStatus.SUCCEEDED, order.payment.status
    step(f"order {order.id} paid by card {card.id}: {order.total.amount} {order.total.currency}")

    # 5. Invoices filtered by status: the order's invoice is paid, none is open.

    paid = expect(
        list_invoices.sync_detailed(org.id, client=client, status=[InvoiceStatus.PAID]), 200, InvoiceList
    )
    assert [i.id for i in paid.data] == [order.invoice_id], [i.id for i in paid.data]
    still_open = expect(
        list_invoices.sync_detailed(org.id, client=client, status=[InvoiceStatus.OPEN]), 200, InvoiceList
    )
    assert still_open.data == [], still_open.data
    step(f"invoices filtered by status: {len(paid.data)} paid, {len(still_open.data)} open")

    # 6. One invoice, with its lines.
    invoice = expect(get_invoice.sync_detailed(org.id, order.invoice_id, client=client), 200, InvoiceDetailView)
    assert invoice.status == InvoiceStatus.PAID and invoice.total.amount == order.total.amount
    assert invoice.lines, "an invoice has lines"
    step(f"invoice {invoice.number}: {len(invoice.lines)} lines, total {invoice.total.amount}")

    # 7. The prepaid account topped up by card.

    top_up = expect(
        top_up_prepaid_account.sync_detailed(
            org.id,
            client=client,
            idempotency_key=str(uuid.uuid4()),
            body=TopUpRequest(amount=Money(amount="50.00", currency=Currency.CHF), payment_method_id=card.id),
        ),
        201,
        PaymentView,
    )
    assert top_up.status == PaymentStatus.SUCCEEDED, top_up.status
    account = expect(get_prepaid_account.sync_detailed(org.id, client=client), 200, PrepaidAccountView)
    assert Decimal(account.balance.amount) == Decimal("50.00"), account.balance
    step(f"prepaid balance {account.balance.amount} {account.balance.currency}")

    # 8. A personal token limited to reading organisations, used for a read.

    created = expect(
        create_token.sync_detailed(
            client=client,
            body=CreateToken(name="Client flow", kind=TokenKind.PERSONAL, scopes=[Scope.ORGS_READ]),
        ),
        201,
        CreatedApiToken,
    )
    as_token = AuthenticatedClient(base_url=base_url, token=created.secret, raise_on_unexpected_status=True)
    read = expect(get_organization.sync_detailed(org.id, client=as_token), 200, OrganizationView)
    assert read.id == org.id
    step(f"personal token {created.prefix}… read organisation {read.name!r}")

    # 9. A 422: an empty token name. The problem's fields come through the client's types.
    refused = create_token.sync_detailed(
        client=client, body=CreateToken(name="", kind=TokenKind.PERSONAL, scopes=[Scope.ACCOUNT_READ])
    )
    problem = refused.parsed
    assert refused.status_code == 422 and isinstance(problem, Problem), (refused.status_code, refused.content)
    assert problem.status == 422 and problem.type_.startswith("urn:leman:problem:"), problem
    assert problem.code == "validation_failed", problem.code
    assert isinstance(problem.errors, list) and problem.errors, "a validation problem lists its fields"
    first = problem.errors[0]
    assert first.field == "/name", first.field
    step(f"422 {problem.code}: {first.field} {first.code} ({first.message})")

    step("flow complete")


if __name__ == "__main__":
    main()
