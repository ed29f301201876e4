// SDK contract test for reading inventory items: the query builder (eq, gt, hasSome,
// ascending, limit, find, next), the typed query, search with a VALUE aggregation and cursor
// paging, and count — driven through the official Wix SDK against a running Stockroom server.
//
// Run: STOCKROOM_URL=http://127.0.0.1:8000 node query.mjs
// Every run creates its own items under a fresh random productId and filters on it, so it
// works against a non-empty database.

import { randomUUID } from 'node:crypto';
import {
  assert, createStockroomClient, eventually, GUID, inventoryPrefix, needs, run, test, wire,
} from './harness.mjs';

const inventory = createStockroomClient().inventoryItemsV3;

const productId = randomUUID();
const fixtures = [
  { name: 'a', quantity: 3 },
  { name: 'b', quantity: 7 },
  { name: 'c', quantity: 0 },
  { name: 'd', quantity: 12 },
  { name: 'e', inStock: true },
].map(({ name, ...tracking }) => ({ name, variantId: randomUUID(), ...tracking }));

/** Fixture items by name once created, e.g. items.a._id. */
const items = {};
const state = {};

const quantities = (list) => list.map((item) => item.quantity);
const allVariantIds = () => fixtures.map((fixture) => fixture.variantId);

test('setup: bulk create the fixture items', async () => {
  const response = await inventory.bulkCreateInventoryItems(
    fixtures.map(({ name, ...item }) => ({ productId, ...item })),
    { returnEntity: true },
  );
  response.results.forEach(({ item }, index) => {
    if (item) items[fixtures[index].name] = item;
  });
  assert.equal(response.bulkActionMetadata.totalSuccesses, fixtures.length);
});

// --- query --------------------------------------------------------------------------------

// The builder's typings offer hasSome only for product.directCategoryIds, but at runtime it
// accepts any field, and the contract (spec §4.2) allows $hasSome on id fields.
test('query builder: eq + gt + hasSome + ascending + limit, first page', async () => {
  needs(items.e, 'fixture items');
  const page = await inventory
    .queryInventoryItems()
    .eq('productId', productId)
    .gt('quantity', 0)
    .hasSome('variantId', allVariantIds())
    .ascending('quantity')
    .limit(2)
    .find();
  assert.deepEqual(quantities(page.items), [3, 7]);
  assert.equal(page.pageSize, 2);
  assert.equal(page.hasNext(), true, 'a cursor to the next page is returned');
  assert.ok(page.items[0]._createdDate instanceof Date, 'dates are Date objects');
  state.firstPage = page;
});

test('query builder: next() follows the cursor to the last page', async () => {
  const firstPage = needs(state.firstPage, 'first query page');
  const page = await firstPage.next();
  assert.deepEqual(quantities(page.items), [12]);
  assert.equal(page.hasNext(), false);
});

test('query transport: a short query is sent as GET with a base64url JSON `.r` parameter', async () => {
  const item = needs(items.a, 'fixture items');
  await inventory.queryInventoryItems().eq('variantId', item.variantId).find();
  assert.equal(wire.last.method, 'GET');
  assert.equal(wire.last.path, `${inventoryPrefix}/inventory-items/query`);
  const encoded = new URLSearchParams(wire.last.search).get('.r');
  const request = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  assert.deepEqual(request, { query: { filter: { variantId: item.variantId }, cursorPaging: { limit: 50 } } });
});

test('query transport: a query longer than 4000 URL characters is sent as POST', async () => {
  const item = needs(items.a, 'fixture items');
  const manyIds = [item.variantId, ...Array.from({ length: 150 }, () => randomUUID())];
  const page = await inventory.queryInventoryItems().hasSome('variantId', manyIds).find();
  assert.equal(wire.last.method, 'POST');
  assert.deepEqual(page.items.map((found) => found._id), [item._id]);
});

test('query builder: SDK field names _id and _createdDate are translated to id and createdDate', async () => {
  const item = needs(items.b, 'fixture items');
  const page = await inventory
    .queryInventoryItems()
    .eq('_id', item._id)
    .le('_createdDate', new Date(Date.now() + 60_000))
    .descending('_createdDate')
    .find();
  assert.deepEqual(page.items.map((found) => found._id), [item._id]);
});

test('query: typed query object returns the raw response shape', async () => {
  const item = needs(items.c, 'fixture items');
  const response = await inventory.queryInventoryItems({
    filter: { productId, availabilityStatus: 'OUT_OF_STOCK' },
    cursorPaging: { limit: 10 },
  });
  assert.deepEqual(response.inventoryItems.map((found) => found._id), [item._id]);
  assert.equal(response.pagingMetadata.count, 1);
});

// --- search -------------------------------------------------------------------------------

test('search: filter with a VALUE aggregation on availabilityStatus', async () => {
  needs(items.e, 'fixture items');
  const response = await inventory.searchInventoryItems({
    filter: { productId },
    aggregations: [{ name: 'byStatus', type: 'VALUE', fieldPath: 'availabilityStatus', value: { limit: 10 } }],
    cursorPaging: { limit: 100 },
  });
  assert.equal(response.inventoryItems.length, fixtures.length);
  const [aggregation] = response.aggregationData.results;
  assert.equal(aggregation.name, 'byStatus');
  assert.equal(aggregation.type, 'VALUE');
  assert.equal(aggregation.fieldPath, 'availabilityStatus');
  const counts = Object.fromEntries(aggregation.values.results.map(({ value, count }) => [value, count]));
  assert.deepEqual(counts, { IN_STOCK: 4, OUT_OF_STOCK: 1 });
});

test('search: sort by quantity DESC with cursor paging', async () => {
  needs(items.e, 'fixture items');
  const first = await inventory.searchInventoryItems({
    filter: { productId, trackQuantity: true },
    sort: [{ fieldName: 'quantity', order: 'DESC' }],
    cursorPaging: { limit: 3 },
  });
  assert.deepEqual(quantities(first.inventoryItems), [12, 7, 3]);
  assert.equal(first.pagingMetadata.hasNext, true);
  const cursor = first.pagingMetadata.cursors?.next;
  assert.ok(cursor, 'pagingMetadata.cursors.next is returned');

  const second = await inventory.searchInventoryItems({ cursorPaging: { cursor, limit: 3 } });
  assert.deepEqual(quantities(second.inventoryItems), [0]);
  assert.equal(second.pagingMetadata.hasNext, false);
});

// --- count --------------------------------------------------------------------------------

test('count: counts items matching a filter', async () => {
  needs(items.e, 'fixture items');
  assert.deepEqual(await inventory.countInventoryItems({ filter: { productId } }), { count: fixtures.length });
  const inStock = await inventory.countInventoryItems({ filter: { productId, availabilityStatus: 'IN_STOCK' } });
  assert.equal(inStock.count, 4);
});

// --- by-filter bulk actions (background jobs) ----------------------------------------------

test('update by filter: returns a job id and the update is applied', async () => {
  const flagged = needs(items.e, 'inStock-tracked fixture');
  const { jobId } = await inventory.bulkUpdateInventoryItemsByFilter(
    { productId, variantId: flagged.variantId },
    { inventoryItem: { inStock: false } },
  );
  assert.match(jobId, GUID);
  const item = await eventually(async () => {
    const current = await inventory.getInventoryItem(flagged._id);
    return current.inStock === false ? current : null;
  });
  assert.ok(item, 'the item eventually has inStock=false');
  assert.equal(item.availabilityStatus, 'OUT_OF_STOCK');
  assert.equal(item.revision, String(Number(flagged.revision) + 1));
});

await run({
  cleanup: async () => {
    const ids = Object.values(items).map((item) => item._id);
    if (ids.length > 0) await inventory.bulkDeleteInventoryItems(ids);
  },
});
