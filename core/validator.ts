/**
 * One JSON Schema validator for every SDK client and server the proxy makes: the SDK would give
 * each its own Ajv instance (about 19 KiB each, three per client session). It only caches
 * compiled schemas, so sharing it shares no state between sessions.
 */
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';

export const sharedValidator = new AjvJsonSchemaValidator();
