// Drives the real @backstage/catalog-client against a live blacktop and prints what it got as JSON.
// Usage: node check.js <baseUrl> <token> <location-file>
const { CatalogClient, CATALOG_FILTER_EXISTS } = require('@backstage/catalog-client');

async function main() {
  const [baseUrl, token, locationFile, dryRunFile] = process.argv.slice(2);
  const discoveryApi = { getBaseUrl: async () => `${baseUrl}/api/catalog` };
  const fetchApi = {
    fetch: (input, init = {}) =>
      fetch(input, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${token}` } }),
  };
  const client = new CatalogClient({ discoveryApi, fetchApi });
  const out = {};

  const added = await client.addLocation({ type: 'file', target: locationFile });
  out.addLocation = { type: added.location.type, target: added.location.target, entities: added.entities.length };
  const dry = await client.addLocation({ type: 'file', target: dryRunFile, dryRun: true });
  out.dryRun = { exists: dry.exists, entities: dry.entities.length };
  const byRef = await client.getLocationByRef(`file:${locationFile}`);
  out.getLocationByRef = byRef ? { id: byRef.id === added.location.id, target: byRef.target } : null;
  const byId = await client.getLocationById(added.location.id);
  out.getLocationById = byId ? byId.target : null;

  const components = await client.getEntities({
    filter: [{ kind: 'Component', 'spec.type': 'website' }, { kind: 'Domain' }],
    fields: ['kind', 'metadata.name'],
  });
  out.getEntities = components.items.map(e => `${e.kind}:${e.metadata.name}`).sort();
  const anyOf = await client.getEntities({ filter: { kind: ['Domain', 'Resource'] } });
  out.anyOf = anyOf.items.map(e => e.metadata.name).sort();
  const exists = await client.getEntities({ filter: { kind: 'Group', 'spec.profile.email': CATALOG_FILTER_EXISTS } });
  out.exists = exists.items.map(e => e.metadata.name).sort();

  const entity = await client.getEntityByRef('component:default/artist-lookup');
  out.getEntityByRef = entity ? { name: entity.metadata.name, owner: entity.spec.owner, relations: entity.relations.length } : null;
  out.missing = (await client.getEntityByRef('component:default/does-not-exist')) === undefined;

  const refs = await client.getEntitiesByRefs({ entityRefs: ['domain:default/artists', 'component:default/nope'] });
  out.getEntitiesByRefs = refs.items.map(e => (e ? e.metadata.name : null));

  let page = await client.queryEntities({
    filter: { kind: 'User' }, limit: 5, orderFields: { field: 'metadata.name', order: 'asc' },
  });
  out.totalItems = page.totalItems;
  const names = page.items.map(e => e.metadata.name);
  while (page.pageInfo.nextCursor) {
    page = await client.queryEntities({ cursor: page.pageInfo.nextCursor, limit: 5 });
    names.push(...page.items.map(e => e.metadata.name));
  }
  out.cursorNames = names;
  const text = await client.queryEntities({ fullTextFilter: { term: 'artist', fields: ['metadata.name'] } });
  out.fullText = text.items.map(e => e.metadata.name).sort();

  const facets = await client.getEntityFacets({ facets: ['kind'], filter: { kind: ['Domain', 'System'] } });
  out.facets = facets.facets.kind;

  const valid = await client.validateEntity(
    { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'x' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a' } },
    'url:https://example.com/catalog-info.yaml');
  out.validateEntity = valid.valid;
  await client.refreshEntity('component:default/artist-lookup');
  out.refreshed = true;
  const byEntity = await client.getLocationByEntity('component:default/artist-lookup');
  out.getLocationByEntity = byEntity ? byEntity.id === added.location.id : null;
  await client.removeLocationById(added.location.id);
  out.afterRemove = (await client.getEntityByRef('component:default/artist-lookup')) === undefined;
  console.log(JSON.stringify(out));
}

main().catch(err => {
  console.error(err && err.body ? JSON.stringify(err.body) : "", err && err.stack ? err.stack : err);
  process.exit(1);
});
