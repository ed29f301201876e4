// SDK contract test for stores (sites), products and locations: two SDK clients with
// different `siteId`s create the same product and variant ids, and every call stays inside
// its own store. Driven through the official Wix SDK against a running Stockroom server.
//
// Run: STOCKROOM_URL=http://127.0.0.1:8000 node stores.mjs

import { randomUUID } from 'node:crypto';
import { assert, createStockroomClient, expectSdkError, needs, run, test } from './harness.mjs';

const sites = [randomUUID(), randomUUID()];
const [first, second] = sites.map((siteId) => createStockroomClient({ siteId }));
const productId = randomUUID();
const variantId = randomUUID();
const state = {};

const product = (name) => ({
  _id: productId,
  name,
  productType: 'PHYSICAL',
  variantsInfo: { variants: [{ _id: variantId, sku: 'MUG-1', inventoryItem: { quantity: 10 } }] },
});

test('each store has its own default location', async () => {
  const [a, b] = await Promise.all(
    [first, second].map((client) => client.storesLocationsV3.getDefaultStoresLocation()),
  );
  assert.equal(a.storesLocation.defaultLocation, true);
  assert.notEqual(a.storesLocation._id, b.storesLocation._id);
  state.locations = [a.storesLocation._id, b.storesLocation._id];
});

test('both stores create the same product and variant ids with inventory', async () => {
  const created = await Promise.all(
    [first, second].map((client, index) =>
      client.productsV3.createProductWithInventory(product(`Mug ${index}`), { returnEntity: true }),
    ),
  );
  state.items = created.map((response) => response.inventoryResults.results[0].item);
  assert.notEqual(state.items[0]._id, state.items[1]._id);
  assert.deepEqual(state.items.map((item) => item.locationId), needs(state.locations, 'locations'));
  assert.equal(created[0].product._id, productId);
});

test('a decrement by variant in one store leaves the other untouched', async () => {
  const items = needs(state.items, 'items');
  await first.inventoryItemsV3.bulkDecrementInventoryItemsByVariantAndLocation([
    { variantId, decrementBy: 4 },
  ]);
  const [mine, theirs] = await Promise.all([
    first.inventoryItemsV3.getInventoryItem(items[0]._id),
    second.inventoryItemsV3.getInventoryItem(items[1]._id),
  ]);
  assert.equal(mine.quantity, 6);
  assert.equal(theirs.quantity, 10);
});

test("one store's item ids are not found in the other", async () => {
  const items = needs(state.items, 'items');
  await expectSdkError(second.inventoryItemsV3.getInventoryItem(items[0]._id), {
    status: 404,
    code: 'NOT_FOUND',
  });
  await expectSdkError(second.storesLocationsV3.getStoresLocation(state.locations[0]), {
    status: 404,
  });
});

test('queries and counts see only their own store', async () => {
  const items = needs(state.items, 'items');
  const found = await second.inventoryItemsV3.queryInventoryItems().eq('variantId', variantId).find();
  assert.deepEqual(found.items.map((item) => item._id), [items[1]._id]);
  const counted = await first.inventoryItemsV3.countInventoryItems({ filter: { variantId } });
  assert.equal(counted.count, 1);
});

test("renaming a product changes its items' summary in that store only", async () => {
  const items = needs(state.items, 'items');
  const current = await first.productsV3.getProduct(productId);
  await first.productsV3.updateProduct(productId, { revision: current.revision, name: 'Big Mug' });
  const [mine, theirs] = await Promise.all([
    first.inventoryItemsV3.getInventoryItem(items[0]._id),
    second.inventoryItemsV3.getInventoryItem(items[1]._id),
  ]);
  assert.equal(mine.product.name, 'Big Mug');
  assert.equal(theirs.product.name, 'Mug 1');
});

test('the product inventory summary follows stock in its own store', async () => {
  const items = needs(state.items, 'items');
  await second.inventoryItemsV3.bulkDecrementInventoryItems([
    { inventoryItemId: items[1]._id, decrementBy: 10 },
  ]);
  const [mine, theirs] = await Promise.all(
    [first, second].map((client) => client.productsV3.getProduct(productId)),
  );
  assert.equal(mine.inventory.availabilityStatus, 'IN_STOCK');
  assert.equal(theirs.inventory.availabilityStatus, 'OUT_OF_STOCK');
});

test('locations query lists the store’s own locations', async () => {
  const found = await first.storesLocationsV3.queryStoresLocations().find();
  assert.deepEqual(found.items.map((location) => location._id), [state.locations[0]]);
});

await run({
  cleanup: async () => {
    await Promise.all([first, second].map((client) => client.productsV3.deleteProduct(productId)));
  },
});
