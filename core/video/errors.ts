import { VidraError } from '../config/errors.ts';

/** A video or frame folder that cannot be read as asked: the message names it (and the frame, where one is at fault). */
export class VideoError extends VidraError {}
