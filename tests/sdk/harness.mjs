// Shared plumbing for the SDK contract scripts: an SDK client pointed at Stockroom,
// a minimal sequential test runner, and assertions for SDK errors.
//
// Environment:
//   STOCKROOM_URL      base URL of the server (default http://127.0.0.1:8000)
//   STOCKROOM_SITE_ID  sent as `wix-site-id`   (default site-1)
//   STOCKROOM_API_KEY  sent as `Authorization` (default key-1; raw value, no "Bearer")

import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as inventoryItemsV3 from '@wix/auto_sdk_stores_inventory-items-v-3';
import * as productsV3 from '@wix/auto_sdk_stores_products-v-3';
import * as storesLocationsV3 from '@wix/auto_sdk_stores_stores-locations-v-3';

export { assert };

const baseUrl = (process.env.STOCKROOM_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');

/** The last HTTP exchange, with the raw (untransformed) response body, for wire-format checks. */
export const wire = { last: null };

// The SDK always builds `https://<apiBaseUrl><path>`: `host.apiBaseUrl` is a bare host name,
// never a URL. STOCKROOM_SDK_HOST picks one of two ways to reach Stockroom:
//   wixapis (default)  keep the SDK's default host, whose paths are the public REST ones
//                      (`/stores/v3/...`), and send each request to Stockroom instead;
//   custom             name Stockroom as `host.apiBaseUrl`, as an app behind a TLS proxy would;
//                      the SDK then uses its custom-host paths (`/_api/inventory/v3/...`), and
//                      the fetch below speaks plain http to the test server.
const hostMode = process.env.STOCKROOM_SDK_HOST ?? 'wixapis';

async function fetchFromStockroom(url, init) {
  const { pathname, search } = new URL(url);
  const response = await fetch(`${baseUrl}${pathname}${search}`, init);
  wire.last = {
    method: init?.method ?? 'GET',
    path: pathname,
    search,
    status: response.status,
    body: await response.clone().text(),
  };
  return response;
}

/**
 * An SDK client for one store (site). Inventory is always there; products and locations
 * are added for the scripts that use them.
 */
export function createStockroomClient({
  siteId = process.env.STOCKROOM_SITE_ID ?? 'site-1',
  apiKey = process.env.STOCKROOM_API_KEY ?? 'key-1',
} = {}) {
  const custom = hostMode === 'custom';
  return createClient({
    ...(custom ? { host: { apiBaseUrl: new URL(baseUrl).host } } : {}),
    auth: ApiKeyStrategy({ siteId, apiKey }),
    fetch: fetchFromStockroom,
    modules: { inventoryItemsV3, productsV3, storesLocationsV3 },
  });
}

/** The path prefix the SDK sends inventory calls under in this run. */
export const inventoryPrefix = hostMode === 'custom' ? '/_api/inventory/v3' : '/stores/v3';

// ---------------------------------------------------------------------------------------------
// Runner: tests run in declaration order and may depend on state left by earlier ones.
// A test that cannot run because an earlier one failed reports "blocked" and counts as failed.

class Blocked extends Error {}

/** Returns `value`, or blocks the current test when an earlier test did not produce it. */
export function needs(value, what) {
  if (value === undefined || value === null) throw new Blocked(`blocked: needs ${what}`);
  return value;
}

const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

export async function run({ cleanup } = {}) {
  console.log(`Stockroom SDK contract tests against ${baseUrl} (host mode: ${hostMode})`);
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of tests) {
    try {
      await fn();
      passed += 1;
      console.log(`ok      ${name}`);
    } catch (error) {
      failed += 1;
      if (error instanceof Blocked) {
        console.log(`FAIL    ${name} (${error.message})`);
      } else {
        console.log(`FAIL    ${name}\n${indent(describeError(error))}`);
      }
    }
  }
  if (cleanup) {
    try {
      await cleanup();
    } catch (error) {
      console.log(`(cleanup failed: ${error.message.split('\n')[0]})`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

function describeError(error) {
  if (error instanceof assert.AssertionError) return error.message;
  const lines = [`${error?.name ?? 'Error'}: ${error?.message ?? error}`];
  if (error?.status !== undefined) lines.push(`HTTP status: ${error.status}`);
  if (error?.cause) lines.push(`cause: ${[error.cause.code, error.cause.message ?? error.cause].filter(Boolean).join(' ')}`);
  if (wire.last) {
    lines.push(`last exchange: ${wire.last.method} ${wire.last.path} -> ${wire.last.status} ${wire.last.body.slice(0, 500)}`);
  }
  return lines.join('\n');
}

const indent = (text) => text.split('\n').map((line) => `        ${line}`).join('\n');

// ---------------------------------------------------------------------------------------------
// SDK error assertions.
//
// A failed call rejects with the SDK's error object, which carries:
//   status                                   HTTP status of the response
//   details.applicationError {code, description, data}   for business errors
//   details.validationError.fieldViolations[]            for validation errors
//   details.requestId, requestId             from the X-Wix-Request-Id response header
//   message                                  a JSON string of {message, details}
// If the response body has no `details`, the SDK fabricates an applicationError whose `code`
// is the numeric HTTP status, so `code` assertions only pass when the server sends details.

/** Awaits `promise`, asserts that it rejects with an SDK error of the given shape, returns it. */
export async function expectSdkError(promise, { status, code, ruleName }) {
  let error;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `expected the call to fail with HTTP ${status}${code ? ` ${code}` : ''}, but it succeeded`);
  assert.ok(error.details, `expected an SDK error with details, got:\n${describeError(error)}`);
  assert.equal(error.status, status, `HTTP status; error: ${error.message}`);
  if (code) {
    assert.equal(error.details.applicationError?.code, code, `applicationError.code; error: ${error.message}`);
  }
  if (ruleName) {
    const rules = (error.details.validationError?.fieldViolations ?? []).map((violation) => violation.ruleName);
    assert.ok(rules.includes(ruleName), `expected a field violation with ruleName ${ruleName}, got ${JSON.stringify(rules)}`);
  }
  return error;
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the scripts.

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` elapses; returns the last value. */
export async function eventually(probe, { timeoutMs = 5000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!value && Date.now() < deadline) {
    await sleep(intervalMs);
    value = await probe();
  }
  return value;
}
