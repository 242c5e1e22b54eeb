import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes the product writes, defined once here, where the workflow bundle
 * can import them; lib/temporal.ts registers them on namespaces from this list.
 */
export const BUSINESS_ID_KEY = defineSearchAttributeKey('BusinessId', SearchAttributeType.KEYWORD);
export const ORDER_STATUS_KEY = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [BUSINESS_ID_KEY, ORDER_STATUS_KEY] as const;
