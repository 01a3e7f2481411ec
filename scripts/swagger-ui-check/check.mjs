// Swagger UI as a person uses it, in headless Chromium (run by scripts/swagger-ui-check.sh):
// open /docs with every request leaving the server refused (the UI must be vendored, so it
// works offline), "Authorize" with a bearer token, then "Try it out" and "Execute" on
// `GET /v1/me`, which must show a 200 with the caller's email. A screenshot of the operation
// and its answer is written to SCREENSHOT.
//
// Environment: LEMAN_URL, LEMAN_TOKEN (an access token), LEMAN_EMAIL, CHROMIUM (executable),
// SCREENSHOT (path of the PNG).
import { chromium } from "playwright-core";

const base = need("LEMAN_URL");
const token = need("LEMAN_TOKEN");
const email = need("LEMAN_EMAIL");
const screenshot = need("SCREENSHOT");
const origin = new URL(base).origin;

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function step(message) {
  console.log(`swagger-ui-check: ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // CI containers run as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-proxy-server"],
});
let failed = false;
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);

  // Offline: anything not served by this server is refused, and counted.
  const external = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    external.push(url);
    return route.abort("internetdisconnected");
  });
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));

  // 1. The page loads and renders the spec's operations.
  const answer = await page.goto(`${base}/docs`, { waitUntil: "load" });
  if (!answer || answer.status() !== 200) throw new Error(`GET /docs answered ${answer?.status()}`);
  const operation = page.locator('div.opblock[id$="-get_me"]');
  await operation.waitFor();
  step(`/docs rendered ${await page.locator("div.opblock").count()} operations`);

  // 2. "Authorize" with the access token (the bearer_jwt scheme).
  await page.locator("button.authorize").first().click();
  const dialog = page.locator(".modal-ux");
  await dialog.waitFor();
  const scheme = dialog.locator(".auth-container", { hasText: "bearer_jwt" });
  await scheme.locator("input").first().fill(token);
  await scheme.locator("button.authorize").click();
  await scheme.locator("button", { hasText: "Logout" }).waitFor();
  await dialog.locator("button.btn-done, button.close-modal").first().click();
  step("authorized with a bearer token");

  // 3. GET /v1/me: expand, "Try it out", "Execute".
  await operation.locator(".opblock-summary").first().click();
  await operation.locator("button.try-out__btn").click();
  await operation.locator("button.execute").click();
  const live = operation.locator(".live-responses-table .response");
  await live.first().waitFor();
  const status = (await live.locator(".response-col_status").first().innerText()).trim();
  const body = await operation.locator(".live-responses-table .response-col_description pre").first().innerText();
  await operation.scrollIntoViewIfNeeded();
  await operation.screenshot({ path: screenshot });
  step(`GET /v1/me answered ${status} in the UI; screenshot in ${screenshot}`);

  if (status !== "200") throw new Error(`GET /v1/me showed ${status}, expected 200: ${body.slice(0, 300)}`);
  if (!body.includes(email)) throw new Error(`the answer shown does not hold ${email}: ${body.slice(0, 300)}`);
  if (external.length > 0) throw new Error(`/docs asked for outside resources: ${external.join(", ")}`);
  if (pageErrors.length > 0) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  step("ok: offline, authorized, 200 shown");
} catch (error) {
  failed = true;
  console.error(`swagger-ui-check: ${error instanceof Error ? error.message : error}`);
  // What the page looked like when it went wrong.
  await page?.screenshot({ path: screenshot, fullPage: false }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
