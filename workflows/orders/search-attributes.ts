import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BUSINESS_ID_KEY = defineSearchAttributeKey('BusinessId', SearchAttributeType.KEYWORD);
export const ORDER_STATUS_KEY = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
