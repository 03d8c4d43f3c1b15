// The one place Vidra imports tsyringe, after its Reflect polyfill. Importing tsyringe through this module
// keeps the polyfill off the start-up path of commands that build no plugin (`vidra run --cfg job`).
import 'reflect-metadata';

export { container, inject, injectable, type DependencyContainer } from 'tsyringe';
