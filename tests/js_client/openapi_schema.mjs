// A small validator for the JSON Schema subset that Qdrant's OpenAPI 3.0 spec
// uses (type, nullable, $ref, properties, required, additionalProperties,
// items, anyOf, oneOf, enum, minimum, maximum, minLength, minItems), so the
// conformance test needs no schema library.
import { readFileSync } from 'node:fs';

export class OpenApi {
  constructor(path) {
    this.spec = JSON.parse(readFileSync(path, 'utf8'));
  }

  // The schema of the 200 response (or of "4XX" errors) of an operation.
  responseSchema(path, method, status = 200) {
    const responses = this.spec.paths[path]?.[method]?.responses;
    if (!responses) throw new Error(`${method.toUpperCase()} ${path} is not in the spec`);
    const response = status === 200 ? responses['200'] : responses['4XX'];
    return response.content['application/json'].schema;
  }

  requestSchema(path, method) {
    return this.spec.paths[path][method].requestBody.content['application/json'].schema;
  }

  // Returns the list of violations of value against schema; empty if valid.
  validate(value, schema, where = '$') {
    const errors = [];
    this.#check(value, schema, where, errors);
    return errors;
  }

  #resolve(schema) {
    while (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      schema = this.spec.components.schemas[name];
    }
    return schema;
  }

  #check(value, schemaOrRef, where, errors) {
    const schema = this.#resolve(schemaOrRef);
    if (value === null) {
      // nullable, or an anyOf with a {nullable: true} member.
      if (schema.nullable || (schema.anyOf ?? []).some((s) => this.#resolve(s).nullable)) return;
      if (!schema.type && !schema.anyOf && !schema.oneOf && !schema.enum) return;
    }
    if (schema.anyOf) {
      const options = schema.anyOf.filter((s) => !(Object.keys(s).length === 1 && s.nullable));
      if (!options.some((s) => this.validate(value, s, where).length === 0)) {
        errors.push(`${where}: matches no anyOf option`);
      }
    }
    if (schema.oneOf) {
      const matches = schema.oneOf.filter((s) => this.validate(value, s, where).length === 0).length;
      if (matches !== 1) errors.push(`${where}: matches ${matches} oneOf options`);
    }
    if (schema.enum && !schema.enum.includes(value)) errors.push(`${where}: ${JSON.stringify(value)} not in enum`);
    if (!schema.type) return;
    const typeOk = {
      object: () => value !== null && typeof value === 'object' && !Array.isArray(value),
      array: () => Array.isArray(value),
      string: () => typeof value === 'string',
      integer: () => Number.isInteger(value),
      number: () => typeof value === 'number',
      boolean: () => typeof value === 'boolean',
    }[schema.type]();
    if (!typeOk) {
      errors.push(`${where}: ${JSON.stringify(value)?.slice(0, 60)} is not ${schema.type}`);
      return;
    }
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${where}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${where}: above ${schema.maximum}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${where}: too short`);
    if (schema.type === 'array') {
      if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${where}: too few items`);
      value.forEach((item, i) => schema.items && this.#check(item, schema.items, `${where}[${i}]`, errors));
    }
    if (schema.type === 'object') {
      for (const key of schema.required ?? []) {
        if (!(key in value)) errors.push(`${where}: missing required ${key}`);
      }
      for (const [key, item] of Object.entries(value)) {
        const property = schema.properties?.[key];
        if (property) {
          this.#check(item, property, `${where}.${key}`, errors);
        } else if (schema.additionalProperties === false) {
          errors.push(`${where}: unexpected property ${key}`);
        } else if (typeof schema.additionalProperties === 'object') {
          this.#check(item, schema.additionalProperties, `${where}.${key}`, errors);
        }
      }
    }
  }
}
