// SDK contract test for the core inventory-items methods (create/get/update/delete, bulk
// variants, increments/decrements, preorder, upsert), driven through the
// official Wix SDK against a running Stockroom server. Query/search/count live in query.mjs.
//
// Run: STOCKROOM_URL=http://127.0.0.1:8000 node inventory.mjs
// Every run uses fresh random product/variant ids, so it works against a non-empty database.

import { randomUUID } from 'node:crypto';
import {
  assert, createStockroomClient, expectSdkError, GUID, inventoryPrefix, needs, run, test, wire,
} from './harness.mjs';

const inventory = createStockroomClient().inventoryItemsV3;

const productId = randomUUID();
const variant = {
  main: randomUUID(), // quantity-tracked, default location
  counted: randomUUID(), // quantity-tracked, created in bulk
  status: randomUUID(), // inStock-tracked, created in bulk
  bulkOnly: randomUUID(), // created by the duplicate-detection bulk create
  preorder: randomUUID(), // quantity 0 with preorder enabled
  upserted: randomUUID(), // created by bulk upsert
};

const state = {};
const createdIds = new Set();

const remember = (item) => {
  if (item?._id) createdIds.add(item._id);
  return item;
};
const bump = (revision) => String(Number(revision) + 1);

// --- create / get / update ----------------------------------------------------------------

test('create: quantity-tracked item lands at the default location with revision "1"', async () => {
  const item = remember(await inventory.createInventoryItem({ productId, variantId: variant.main, quantity: 10 }));
  state.main = item;
  state.defaultLocationId = item.locationId;
  assert.match(item._id, GUID);
  assert.equal(item.revision, '1');
  assert.equal(item.productId, productId);
  assert.equal(item.variantId, variant.main);
  assert.equal(item.quantity, 10);
  assert.equal(item.trackQuantity, true);
  assert.equal(item.availabilityStatus, 'IN_STOCK');
  assert.match(item.locationId ?? '', GUID, 'locationId resolved to the default location');
  assert.ok(item._createdDate instanceof Date, '_createdDate is a Date');
  assert.ok(item._updatedDate instanceof Date, '_updatedDate is a Date');
});

test('get: returns the created item', async () => {
  const created = needs(state.main, 'created item');
  const item = await inventory.getInventoryItem(created._id);
  assert.equal(item._id, created._id);
  assert.equal(item.revision, '1');
  assert.equal(item.quantity, 10);
  assert.equal(item.locationId, created.locationId);
  assert.equal(item._createdDate.getTime(), created._createdDate.getTime());
});

test('wire format: REST names (id, createdDate), revision as string, no inStock on counted item', async () => {
  const created = needs(state.main, 'created item');
  await inventory.getInventoryItem(created._id);
  assert.equal(wire.last.path, `${inventoryPrefix}/inventory-items/${created._id}`);
  const raw = JSON.parse(wire.last.body).inventoryItem;
  assert.equal(raw.id, created._id);
  assert.equal(raw._id, undefined, 'the underscore names are SDK-only');
  assert.match(raw.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(typeof raw.revision, 'string');
  assert.ok(raw.inStock == null, 'only one tracking method is set');
});

test('update: with the current revision applies and bumps revision to "2"', async () => {
  const created = needs(state.main, 'created item');
  const item = await inventory.updateInventoryItem(created._id, { revision: '1', quantity: 12 }, { reason: 'MANUAL' });
  state.main = item;
  assert.equal(item.revision, '2');
  assert.equal(item.quantity, 12);
  assert.ok(item._updatedDate >= created._updatedDate, '_updatedDate moves forward');
});

test('update: stale revision is rejected with HTTP 409 and changes nothing', async () => {
  const current = needs(state.main, 'updated item');
  await expectSdkError(inventory.updateInventoryItem(current._id, { revision: '1', quantity: 99 }), { status: 409 });
  const item = await inventory.getInventoryItem(current._id);
  assert.equal(item.revision, current.revision);
  assert.equal(item.quantity, current.quantity);
});

test('update: missing revision is rejected with HTTP 400', async () => {
  const current = needs(state.main, 'updated item');
  await expectSdkError(inventory.updateInventoryItem(current._id, { quantity: 99 }), { status: 400 });
});

test('create: negative quantity is rejected (400, REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE)', async () => {
  await expectSdkError(
    inventory.createInventoryItem({ productId, variantId: randomUUID(), quantity: -1 }),
    { status: 400, ruleName: 'REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE' },
  );
});

test('create: second item for the same variant and location is rejected (409 ITEM_ALREADY_EXISTS)', async () => {
  needs(state.main, 'created item');
  await expectSdkError(
    inventory.createInventoryItem({ productId, variantId: variant.main, quantity: 1 }),
    { status: 409, code: 'ITEM_ALREADY_EXISTS' },
  );
});

// --- bulk create / update -----------------------------------------------------------------

test('bulk create: returnEntity envelope with itemMetadata and bulkActionMetadata', async () => {
  const response = await inventory.bulkCreateInventoryItems(
    [
      { productId, variantId: variant.counted, quantity: 5 },
      { productId, variantId: variant.status, inStock: true },
    ],
    { returnEntity: true },
  );
  response.results.filter((result) => result.item).forEach((result) => remember(result.item));
  const [counted, status] = response.results.map((result) => result.item);
  state.counted = counted;
  state.status = status;
  assert.equal(response.results.length, 2);
  response.results.forEach(({ itemMetadata, item }, index) => {
    assert.equal(itemMetadata.originalIndex, index);
    assert.equal(itemMetadata.success, true);
    assert.equal(itemMetadata._id, item._id, 'itemMetadata.id is the new item id');
    assert.equal(item.revision, '1');
  });
  assert.equal(counted.trackQuantity, true);
  assert.equal(counted.quantity, 5);
  assert.equal(counted.locationId, state.defaultLocationId);
  assert.equal(status.trackQuantity, false);
  assert.equal(status.inStock, true);
  assert.equal(status.availabilityStatus, 'IN_STOCK');
  assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 2, totalFailures: 0, undetailedFailures: 0 });
});

test('bulk create: duplicate (variantId, locationId) fails per item with ITEM_ALREADY_EXISTS', async () => {
  needs(state.main, 'created item');
  const response = await inventory.bulkCreateInventoryItems(
    [
      { productId, variantId: variant.main, quantity: 1 }, // exists already
      { productId, variantId: variant.bulkOnly, quantity: 1 },
      { productId, variantId: variant.bulkOnly, quantity: 2 }, // duplicate inside the request
    ],
    { returnEntity: true },
  );
  const [existing, fresh, repeated] = response.results;
  if (fresh?.item) remember(fresh.item);
  assert.deepEqual(response.results.map((result) => result.itemMetadata.success), [false, true, false]);
  assert.deepEqual(response.results.map((result) => result.itemMetadata.originalIndex), [0, 1, 2]);
  assert.equal(existing.itemMetadata.error.code, 'ITEM_ALREADY_EXISTS');
  assert.equal(repeated.itemMetadata.error.code, 'ITEM_ALREADY_EXISTS');
  assert.equal(existing.item, undefined, 'failed results carry no item');
  assert.equal(fresh.item.quantity, 1);
  assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 1, totalFailures: 2, undetailedFailures: 0 });
});

test('bulk update: wrapped items with revision are updated', async () => {
  const counted = needs(state.counted, 'bulk-created item');
  const response = await inventory.bulkUpdateInventoryItems(
    [{ inventoryItem: { _id: counted._id, revision: counted.revision, quantity: 7 } }],
    { returnEntity: true, reason: 'MANUAL' },
  );
  const [{ itemMetadata, item }] = response.results;
  state.counted = item;
  assert.equal(itemMetadata.success, true);
  assert.equal(itemMetadata._id, counted._id);
  assert.equal(item.quantity, 7);
  assert.equal(item.revision, bump(counted.revision));
  assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 1, totalFailures: 0, undetailedFailures: 0 });
});

// --- increments / decrements --------------------------------------------------------------

test('bulk increment: adds to quantity and bumps revision', async () => {
  const counted = needs(state.counted, 'bulk-updated item');
  const response = await inventory.bulkIncrementInventoryItems(
    [{ inventoryItemId: counted._id, incrementBy: 3 }],
    { returnEntity: true, reason: 'MANUAL' },
  );
  const [{ itemMetadata, item }] = response.results;
  state.counted = item;
  assert.equal(itemMetadata.success, true);
  assert.equal(item.quantity, counted.quantity + 3);
  assert.equal(item.revision, bump(counted.revision));
});

test('bulk decrement: beyond stock with restrictInventory=true fails (428 INSUFFICIENT_INVENTORY), nothing applied', async () => {
  const main = needs(state.main, 'updated item');
  const counted = needs(state.counted, 'incremented item');
  await expectSdkError(
    inventory.bulkDecrementInventoryItems(
      [
        { inventoryItemId: main._id, decrementBy: 1 },
        { inventoryItemId: counted._id, decrementBy: counted.quantity + 1 },
      ],
      { restrictInventory: true, returnEntity: true },
    ),
    { status: 428, code: 'INSUFFICIENT_INVENTORY' },
  );
  for (const before of [main, counted]) {
    const after = await inventory.getInventoryItem(before._id);
    assert.equal(after.quantity, before.quantity, `quantity of ${before._id} unchanged`);
    assert.equal(after.revision, before.revision, `revision of ${before._id} unchanged`);
  }
});

test('bulk decrement: restrictInventory=false may go negative', async () => {
  const counted = needs(state.counted, 'incremented item');
  const response = await inventory.bulkDecrementInventoryItems(
    [{ inventoryItemId: counted._id, decrementBy: counted.quantity + 5 }],
    { restrictInventory: false, returnEntity: true, reason: 'ORDER' },
  );
  const [{ item }] = response.results;
  state.counted = item;
  assert.equal(item.quantity, -5);
  assert.equal(item.availabilityStatus, 'OUT_OF_STOCK');
  assert.equal(item.revision, bump(counted.revision));
});

test('increment by variant and location: omitted locationId means the default location', async () => {
  const main = needs(state.main, 'updated item');
  const counted = needs(state.counted, 'decremented item');
  const response = await inventory.bulkIncrementInventoryItemsByVariantAndLocation(
    [
      { variantId: variant.main, incrementBy: 2 },
      { variantId: variant.counted, locationId: state.defaultLocationId, incrementBy: 5 },
    ],
    { returnEntity: true },
  );
  const [first, second] = response.results;
  state.main = first?.item;
  state.counted = second?.item;
  assert.equal(first.item._id, main._id);
  assert.equal(first.item.quantity, main.quantity + 2);
  assert.equal(second.item._id, counted._id);
  assert.equal(second.item.quantity, counted.quantity + 5);
  assert.equal(second.item.availabilityStatus, 'OUT_OF_STOCK');
  assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 2, totalFailures: 0, undetailedFailures: 0 });
});

test('decrement by variant and location: omitted locationId means the default location', async () => {
  const main = needs(state.main, 'incremented item');
  const response = await inventory.bulkDecrementInventoryItemsByVariantAndLocation(
    [{ variantId: variant.main, decrementBy: 4 }],
    { returnEntity: true, reason: 'ORDER' },
  );
  const [{ itemMetadata, item }] = response.results;
  state.main = item;
  assert.equal(itemMetadata.success, true);
  assert.equal(item._id, main._id);
  assert.equal(item.quantity, main.quantity - 4);
  assert.equal(item.revision, bump(main.revision));
});

test('increment by variant and location: unknown variant fails (428 NOT_FOUND)', async () => {
  await expectSdkError(
    inventory.bulkIncrementInventoryItemsByVariantAndLocation([{ variantId: randomUUID(), incrementBy: 1 }]),
    { status: 428, code: 'NOT_FOUND' },
  );
});

test('increment on an inStock-tracked item fails (428 INVENTORY_QUANTITY_NOT_TRACKED)', async () => {
  const status = needs(state.status, 'inStock-tracked item');
  await expectSdkError(
    inventory.bulkIncrementInventoryItems([{ inventoryItemId: status._id, incrementBy: 1 }]),
    { status: 428, code: 'INVENTORY_QUANTITY_NOT_TRACKED' },
  );
});

// --- preorder -----------------------------------------------------------------------------

test('preorder: enabling preorder with a limit on a 0-quantity item gives PREORDER', async () => {
  const created = remember(await inventory.createInventoryItem({ productId, variantId: variant.preorder, quantity: 0 }));
  assert.equal(created.availabilityStatus, 'OUT_OF_STOCK');
  const item = await inventory.updateInventoryItem(created._id, {
    revision: created.revision,
    preorderInfo: { enabled: true, message: 'Ships in 2 weeks', limit: 5 },
  });
  state.preorder = item;
  assert.equal(item.availabilityStatus, 'PREORDER');
  assert.equal(item.quantity, 0);
  assert.equal(item.preorderInfo.enabled, true);
  assert.equal(item.preorderInfo.message, 'Ships in 2 weeks');
  assert.equal(item.preorderInfo.limit, 5);
  assert.equal(item.preorderInfo.counter ?? 0, 0);
  assert.equal(item.preorderInfo.quantity, 5, 'remaining preorder capacity');
});

test('preorder: decrement with preorderRequest=true raises preorderInfo.counter, quantity unchanged', async () => {
  const before = needs(state.preorder, 'preorder-enabled item');
  const response = await inventory.bulkDecrementInventoryItems(
    [{ inventoryItemId: before._id, decrementBy: 2, preorderRequest: true }],
    { returnEntity: true, reason: 'ORDER' },
  );
  const [{ item }] = response.results;
  state.preorder = item;
  assert.equal(item.quantity, 0);
  assert.equal(item.preorderInfo.counter, 2);
  assert.equal(item.preorderInfo.quantity, 3);
  assert.equal(item.availabilityStatus, 'PREORDER');
  assert.equal(item.revision, bump(before.revision));
});

test('preorder: decrement beyond the remaining preorder capacity fails (428 INSUFFICIENT_INVENTORY)', async () => {
  const before = needs(state.preorder, 'preordered item');
  await expectSdkError(
    inventory.bulkDecrementInventoryItems([{ inventoryItemId: before._id, decrementBy: 4, preorderRequest: true }]),
    { status: 428, code: 'INSUFFICIENT_INVENTORY' },
  );
  const item = await inventory.getInventoryItem(before._id);
  assert.equal(item.preorderInfo.counter, 2);
});

// --- upsert ------------------------------------------------------------

// Internal (appendix A) but exported at runtime by the SDK module.
if (typeof inventory.bulkUpsertInventoryItems === 'function') {
  test('bulk upsert: updates the masked fields of an existing item and creates a new one', async () => {
    const main = needs(state.main, 'decremented item');
    const response = await inventory.bulkUpsertInventoryItems(
      [
        { inventoryItem: { productId, variantId: variant.main, quantity: 50 }, fieldMask: ['quantity'] },
        { inventoryItem: { productId, variantId: variant.upserted, quantity: 3 } },
      ],
      { returnEntity: true },
    );
    const [updated, created] = response.results;
    if (created?.item) remember(created.item);
    assert.equal(updated.itemMetadata.success, true);
    assert.equal(updated.item._id, main._id);
    assert.equal(updated.item.quantity, 50);
    assert.equal(updated.item.revision, bump(main.revision));
    assert.equal(created.itemMetadata.success, true);
    assert.equal(created.item.quantity, 3);
    assert.equal(created.item.revision, '1');
    assert.equal(created.item.locationId, state.defaultLocationId);
    assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 2, totalFailures: 0, undetailedFailures: 0 });
  });
}

// --- delete -------------------------------------------------------------------------------

test('delete: removes the item; get afterwards fails with 404 NOT_FOUND', async () => {
  const main = needs(state.main, 'created item');
  assert.equal(await inventory.deleteInventoryItem(main._id), undefined);
  createdIds.delete(main._id);
  await expectSdkError(inventory.getInventoryItem(main._id), { status: 404, code: 'NOT_FOUND' });
});

test('bulk delete: unknown id fails per item with NOT_FOUND, known id is deleted', async () => {
  const counted = needs(state.counted, 'bulk-created item');
  const response = await inventory.bulkDeleteInventoryItems([counted._id, randomUUID()]);
  createdIds.delete(counted._id);
  const [deleted, unknown] = response.results;
  assert.equal(deleted.itemMetadata.success, true);
  assert.equal(deleted.itemMetadata._id, counted._id);
  assert.equal(unknown.itemMetadata.success, false);
  assert.equal(unknown.itemMetadata.originalIndex, 1);
  assert.equal(unknown.itemMetadata.error.code, 'NOT_FOUND');
  assert.deepEqual(response.bulkActionMetadata, { totalSuccesses: 1, totalFailures: 1, undetailedFailures: 0 });
  await expectSdkError(inventory.getInventoryItem(counted._id), { status: 404 });
});

await run({
  cleanup: async () => {
    if (createdIds.size > 0) await inventory.bulkDeleteInventoryItems([...createdIds]);
  },
});
