// Every workflow the worker registers. Imported only by the worker's bundler, never by the API.
export { processOrder } from './orders/order-workflow';
