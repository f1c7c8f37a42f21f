/**
 * Everything written to a stream in one turn of the event loop goes out in one write() (the
 * stream's _writev joins corked writes): the ACKs a device answers one read with, the frames a
 * host sends for one ACK. Each write to a tty or a socket is a syscall with kernel work behind it.
 */
export class TurnCork {
  private corked = false;

  constructor(private readonly stream: { cork(): void; uncork(): void }) {}

  /** Call before each write: the first one in a turn corks, and the turn's end uncorks. */
  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    setImmediate(() => {
      this.corked = false;
      this.stream.uncork();
    });
  }
}
