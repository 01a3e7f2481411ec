// A partner's integration in TypeScript: types generated from openapi/openapi.json by
// openapi-typescript (generated/leman.ts, written by scripts/clients/run.sh), requests made by
// openapi-fetch. The same flow as scripts/clients/python/flow.py:
// sign in -> profile -> organisation -> order paid by the sandbox card -> invoices filtered by
// status -> one invoice -> prepaid top-up -> a personal token used for a read -> a 422 whose
// problem fields are read through the generated types.
//
// Type-checked with `tsc --strict`, run with node. Environment: LEMAN_URL, LEMAN_EMAIL,
// LEMAN_PASSWORD. Every answer is checked; the first unexpected one stops the run.
import { randomUUID } from "node:crypto";
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/leman.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

const baseUrl = env("LEMAN_URL");
const email = env("LEMAN_EMAIL");
const password = env("LEMAN_PASSWORD");

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function step(message: string): void {
  console.log(`clients/typescript: ${message}`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`clients/typescript: ${message}`);
}

/** The body of a successful answer with the expected status; otherwise stop with the problem. */
function expect<T>(
  answer: { data?: T; error?: unknown; response: Response },
  status: number,
  what: string,
): T {
  if (answer.response.status !== status || answer.data === undefined) {
    throw new Error(
      `clients/typescript: ${what}: expected ${status}, got ${answer.response.status}: ${JSON.stringify(answer.error)}`,
    );
  }
  return answer.data;
}

/** A client that sends `Authorization: Bearer <token>` on every request. */
function authenticated(token: string) {
  const client = createClient<paths>({ baseUrl });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

async function main(): Promise<void> {
  // 1. Sign in. LoginOutcome is Tokens | MfaRequired; `mfa_required` tells them apart.
  const anonymous = createClient<paths>({ baseUrl });
  const outcome = expect(
    await anonymous.POST("/v1/auth/login", { body: { email, password } }),
    200,
    "login",
  );
  check(!("mfa_required" in outcome), "this account has no second factor");
  const tokens: Schemas["Tokens"] = outcome;
  check(tokens.token_type === "Bearer" && tokens.expires_in > 0, "a bearer token");
  step(`signed in, session ${tokens.session_id}`);
  const api = authenticated(tokens.access_token);

  // 2. The profile.
  const me = expect(await api.GET("/v1/me"), 200, "get_me");
  check(me.email === email, `profile email ${me.email}`);
  step(`profile of ${me.email} (${me.id})`);

  // 3. An organisation, billed in CHF in Switzerland.
  const org = expect(
    await api.POST("/v1/orgs", {
      body: {
        name: "Client Flow TS Sàrl",
        country: "CH",
        currency: "CHF",
        billing_address: { line1: "Rue du Rhône 12", postal_code: "1204", city: "Genève" },
      },
    }),
    201,
    "create_organization",
  );
  const org_id = org.id;
  step(`organisation ${org_id}`);

  // 4. A card saved from the sandbox provider's test token, then an order paid with it.
  const card = expect(
    await api.POST("/v1/orgs/{org_id}/payment-methods", {
      params: { path: { org_id } },
      body: { type: "card", token: "tok_visa" },
    }),
    201,
    "create_payment_method",
  );
  const order = expect(
    await api.POST("/v1/orgs/{org_id}/orders", {
      params: { path: { org_id }, header: { "Idempotency-Key": randomUUID() } },
      body: {
        items: [{ offer_id: "ksuite-pro", billing_period: "P1Y", options: { users: 25 } }],
        payment: { method: "payment_method", payment_method_id: card.id },
      },
    }),
    201,
    "create_order",
  );
  check(order.payment?.status === "succeeded", `order payment ${order.payment?.status}`);
  step(`order ${order.id} paid by card ${card.id}: ${order.total.amount} ${order.total.currency}`);

  // 5. Invoices filtered by status: the order's invoice is paid, none is open.
  const paid = expect(
    await api.GET("/v1/orgs/{org_id}/invoices", {
      params: { path: { org_id }, query: { status: ["paid"] } },
    }),
    200,
    "list_invoices paid",
  );
  check(
    paid.data.length === 1 && paid.data[0]?.id === order.invoice_id,
    `paid invoices ${JSON.stringify(paid.data.map((i) => i.id))}`,
  );
  const open = expect(
    await api.GET("/v1/orgs/{org_id}/invoices", {
      params: { path: { org_id }, query: { status: ["open"] } },
    }),
    200,
    "list_invoices open",
  );
  check(open.data.length === 0, "no open invoice");
  step(`invoices filtered by status: ${paid.data.length} paid, ${open.data.length} open`);

  // 6. One invoice, with its lines.
  const invoice = expect(
    await api.GET("/v1/orgs/{org_id}/invoices/{invoice_id}", {
      params: { path: { org_id, invoice_id: order.invoice_id } },
    }),
    200,
    "get_invoice",
  );
  check(invoice.status === "paid" && invoice.total.amount === order.total.amount, "the invoice is paid");
  check(invoice.lines.length > 0, "an invoice has lines");
  step(`invoice ${invoice.number}: ${invoice.lines.length} lines, total ${invoice.total.amount}`);

  // 7. The prepaid account topped up by card.
  const topUp = expect(
    await api.POST("/v1/orgs/{org_id}/prepaid-account/top-ups", {
      params: { path: { org_id }, header: { "Idempotency-Key": randomUUID() } },
      body: { amount: { amount: "50.00", currency: "CHF" }, payment_method_id: card.id },
    }),
    201,
    "top_up_prepaid_account",
  );
  check(topUp.status === "succeeded", `top-up ${topUp.status}`);
  const account = expect(
    await api.GET("/v1/orgs/{org_id}/prepaid-account", { params: { path: { org_id } } }),
    200,
    "get_prepaid_account",
  );
  check(Number(account.balance.amount) === 50, `balance ${account.balance.amount}`);
  step(`prepaid balance ${account.balance.amount} ${account.balance.currency}`);

  // 8. A personal token limited to reading organisations, used for a read.
  const created = expect(
    await api.POST("/v1/me/tokens", {
      body: { name: "Client flow TS", kind: "personal", scopes: ["orgs:read"] },
    }),
    201,
    "create_token",
  );
  const asToken = authenticated(created.secret);
  const read = expect(
    await asToken.GET("/v1/orgs/{org_id}", { params: { path: { org_id } } }),
    200,
    "get_organization with the token",
  );
  check(read.id === org_id, "the token reads the organisation");
  step(`personal token ${created.prefix}… read organisation "${read.name}"`);

  // 9. A 422: an empty token name. `error` is typed as the declared problem.
  const refused = await api.POST("/v1/me/tokens", {
    body: { name: "", kind: "personal", scopes: ["account:read"] },
  });
  check(refused.response.status === 422 && refused.error !== undefined, `expected 422, got ${refused.response.status}`);
  const problem: Problem = refused.error;
  check(problem.status === 422 && problem.type.startsWith("urn:leman:problem:"), "a problem document");
  check(problem.code === "validation_failed", `code ${problem.code}`);
  const first = problem.errors?.[0];
  check(first !== undefined && first.field === "/name", `field ${first?.field}`);
  step(`422 ${problem.code}: ${first.field} ${first.code} (${first.message})`);

  step("flow complete");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
