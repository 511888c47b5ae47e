#!/usr/bin/python3
"""
A minimal libtorrent-rasterbar client for Essaim's end-to-end tests (one torrent, 127.0.0.1 only).

Run it with Debian's interpreter (/usr/bin/python3, package python3-libtorrent): the python3 of a
pyenv or venv cannot see Debian's modules.

    lt_client.py --torrent F --save DIR --port P --mode seed|leech --timeout S
                 [--stop-after-complete] [--status-every SECONDS]

Listens on 127.0.0.1:P (TCP; its UDP tracker packets also leave from 127.0.0.1:P). DHT, LSD,
UPnP, NAT-PMP and uTP are off; no plugin is loaded (so no ut_pex, no ut_metadata, no smart_ban);
the torrent is not auto-managed (the session queue never pauses or resumes it on its own).

stdout: one JSON object per line, each with "ev" and "t" (seconds since start):
  ready        the torrent was added (info hash, trackers, libtorrent version)
  listen       listen_succeeded_alert / listen_failed_alert
  state        state_changed_alert (libtorrent's torrent_status.states names)
  announce     tracker_announce_alert: an announce was sent ("event": none|completed|started|stopped|paused)
  reply        tracker_reply_alert (number of peers returned)
  tracker_error   tracker_error_alert: "error" is the error code's text ("tracker sent a failure
               message" when the tracker answered with an error), "msg" is failure_reason().
               NB libtorrent 2.0.8 leaves failure_reason() EMPTY for UDP (BEP 15) errors: it makes
               the text from the whole datagram, whose first byte (high byte of action 3) is 0,
               read as a C string. Over HTTP it is the `failure reason`.
  tracker_warning tracker_warning_alert
  finished     torrent_finished_alert (every wanted piece is there), with the counters
  peer         peer_connect_alert / peer_disconnected_alert
  status       every --status-every seconds: the counters (see below)
  error        torrent_error_alert, file_error_alert, hash_failed_alert
  stopping     the counters right before the torrent is paused (and "reason")
  final        the last line: the counters once the torrent is paused and its `stopped` announce
               has been answered ("stopped_answered": false if it failed or the wait timed out)

Counters ("finished", "status", "stopping", "final"):
  payload_up / payload_down   torrent_status.total_payload_upload / _download: payload bytes since
                              the torrent was started. libtorrent 2.0 announces `uploaded` =
                              payload_up and `downloaded` = announced_down (below), from zero at
                              `started`.
  all_time_up / all_time_down torrent_status.all_time_upload / _download. NOT what is announced:
                              libtorrent adds the session counters to them once a second, so they
                              lag (a leecher that stops right after completing still shows 0).
  failed, redundant           total_failed_bytes, total_redundant_bytes
  announced_down              max(0, payload_down - failed - redundant) (report_true_downloaded is
                              off by default; a seed also subtracts partial pieces in flight)
  done, wanted                total_done, total_wanted (bytes); peers, is_seeding, state, paused

The stopped announce is built between "stopping" and "final": when both show the same counters,
that announce carried exactly them (checked once with a recording proxy).

UDP announces: libtorrent puts the tracker URL's path (and query) in ONE BEP 41 URL-data option,
`02 <len> <path>`, with no end-of-options byte; for udp://h:p/<32 hex>/announce that is
`02 2a /<32 hex>/announce`, 142-byte packets. Paths over 255 bytes are truncated, not chunked.

Stopping: on SIGTERM/SIGINT, on --timeout, or (with --stop-after-complete) once finished and the
`completed` announce answered (bounded), the torrent is paused with graceful_pause; libtorrent
then announces event=stopped (without resetting its counters first) to every tracker that had
accepted `started`. The script waits (bounded by --stop-wait) for the answer, prints "final" and
exits 0 (2 when --timeout expired, so a caller can tell).
"""
import argparse
import json
import os
import signal
import sys
import time

try:
    import libtorrent as lt
except ImportError as e:  # the test checks this first, but say it plainly
    print(json.dumps({"ev": "fatal", "msg": f"cannot import libtorrent: {e}"}), flush=True)
    sys.exit(3)

T0 = time.monotonic()


def emit(ev, **kw):
    kw = {"ev": ev, "t": round(time.monotonic() - T0, 3), **kw}
    sys.stdout.write(json.dumps(kw, default=str) + "\n")
    sys.stdout.flush()


EVENT_NAMES = {0: "none", 1: "completed", 2: "started", 3: "stopped", 4: "paused"}


def event_name(e):
    try:
        return EVENT_NAMES.get(int(e), str(e))
    except (TypeError, ValueError):
        return str(e)


def counters(h):
    s = h.status()
    announced_down = s.total_payload_download - s.total_failed_bytes - s.total_redundant_bytes
    return {
        "state": str(s.state),
        "paused": bool(s.flags & lt.torrent_flags.paused) if hasattr(s, "flags") else None,
        "payload_up": s.total_payload_upload,
        "payload_down": s.total_payload_download,
        "all_time_up": s.all_time_upload,
        "all_time_down": s.all_time_download,
        "failed": s.total_failed_bytes,
        "redundant": s.total_redundant_bytes,
        "announced_down": max(0, announced_down),
        "done": s.total_done,
        "wanted": s.total_wanted,
        "peers": s.num_peers,
        "is_seeding": s.is_seeding,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["seed", "leech"], required=True)
    ap.add_argument("--timeout", type=float, required=True, help="seconds before giving up (graceful stop, exit 2)")
    ap.add_argument("--stop-after-complete", action="store_true")
    ap.add_argument("--status-every", type=float, default=1.0)
    ap.add_argument("--stop-wait", type=float, default=8.0, help="seconds to wait for the stopped announce's answer")
    args = ap.parse_args()

    stop_reason = []

    def on_signal(signum, _frame):
        if not stop_reason:
            stop_reason.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    cat = lt.alert.category_t
    mask = cat.error_notification | cat.status_notification | cat.tracker_notification | cat.connect_notification | cat.storage_notification
    settings = {
        "listen_interfaces": f"127.0.0.1:{args.port}",
        "listen_system_port_fallback": False,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # TCP only (uTP would work too; TCP keeps it simple and like the other clients)
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_tcp": True,
        "enable_incoming_tcp": True,
        # two clients on 127.0.0.1: distinct ports, same IP
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "announce_ip": "",
        "allow_i2p_mixed": False,
        "alert_mask": int(mask),
        # no speed limits, fast unchoking of the single peer
        "upload_rate_limit": 0,
        "download_rate_limit": 0,
    }
    # flags=0: no default plugins (ut_pex, ut_metadata, smart_ban)
    ses = lt.session(settings, 0)

    os.makedirs(args.save, exist_ok=True)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.save
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    atp.flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.disable_pex
    h = ses.add_torrent(atp)
    emit("ready", mode=args.mode, port=args.port, info_hash=str(atp.ti.info_hashes().v1 if hasattr(atp.ti, "info_hashes") else atp.ti.info_hash()),
         trackers=[t.url for t in atp.ti.trackers()], lt_version=lt.__version__, pid=os.getpid())

    deadline = T0 + args.timeout
    next_status = 0.0
    finished = False
    stopping = False
    stop_announced = False  # tracker_announce_alert with event=stopped seen
    stop_answered = None  # True: reply, False: error
    stop_started = 0.0
    stop_error = None
    exit_code = 0
    announces = 0  # tracker_announce_alerts seen
    replies = 0  # tracker_reply_alerts seen
    errors = 0  # tracker_error_alerts seen
    finished_at = 0.0
    completed_sent_at = None  # tracker_announce_alert with event=completed
    completed_answered = None

    while True:
        now = time.monotonic()
        for a in ses.pop_alerts():
            if isinstance(a, lt.tracker_announce_alert):
                ev = event_name(a.event)
                emit("announce", event=ev, url=a.tracker_url())
                announces += 1
                if ev == "completed" and completed_sent_at is None:
                    completed_sent_at = now
                if stopping and ev == "stopped":
                    stop_announced = True
            elif isinstance(a, lt.tracker_reply_alert):
                emit("reply", peers=a.num_peers, url=a.tracker_url())
                replies += 1
                if completed_sent_at is not None and completed_answered is None:
                    completed_answered = True
                if stop_announced and stop_answered is None:
                    stop_answered = True
            elif isinstance(a, lt.tracker_error_alert):
                # failure_reason(): the tracker's own text (BEP 15 error action / HTTP `failure reason`)
                msg = a.failure_reason()
                errors += 1
                emit("tracker_error", msg=msg, error=a.error.message(), times_in_row=a.times_in_row,
                     url=a.tracker_url(), alert=a.message())
                if stop_announced and stop_answered is None:
                    stop_answered = False
                    stop_error = msg
                if completed_sent_at is not None and completed_answered is None:
                    completed_answered = False
            elif isinstance(a, lt.tracker_warning_alert):
                emit("tracker_warning", msg=a.warning_message() if hasattr(a, "warning_message") else a.message(), url=a.tracker_url())
            elif isinstance(a, lt.state_changed_alert):
                emit("state", state=str(a.state), prev=str(a.prev_state))
            elif isinstance(a, lt.torrent_finished_alert):
                finished = True
                finished_at = now
                emit("finished", **counters(h))
            elif isinstance(a, lt.listen_succeeded_alert):
                emit("listen", ok=True, address=str(a.address), port=a.port, socket_type=str(a.socket_type))
            elif isinstance(a, lt.listen_failed_alert):
                emit("listen", ok=False, msg=a.message())
            elif isinstance(a, (lt.peer_connect_alert, lt.peer_disconnected_alert)):
                emit("peer", what=type(a).__name__, endpoint=str(a.endpoint) if hasattr(a, "endpoint") else str(a.ip), msg=a.message())
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert, lt.hash_failed_alert)):
                emit("error", what=type(a).__name__, msg=a.message())
            elif isinstance(a, lt.torrent_paused_alert):
                emit("paused")

        if not stopping:
            reason = None
            if stop_reason:
                reason = stop_reason[0]
            elif finished and args.stop_after_complete and (
                # let the `completed` announce be answered first (bounded), so that pausing
                # does not race with it
                completed_answered is not None
                or (completed_sent_at is not None and now - completed_sent_at >= 5.0)
                or (completed_sent_at is None and now - finished_at >= 2.0)
            ):
                reason = "complete"
            elif now >= deadline:
                reason = "timeout"
                exit_code = 2
            if reason:
                stopping = True
                stop_started = now
                emit("stopping", reason=reason, **counters(h))
                h.pause(lt.torrent_handle.graceful_pause)
        else:
            # libtorrent sends `stopped` only to trackers that acknowledged a `started`; with no
            # successful announce at all there is nothing to wait for (beyond a short moment)
            # (and no announce still waiting for its answer)
            nothing_to_wait = (replies == 0 and not stop_announced and announces <= replies + errors
                               and now - stop_started >= 1.0)
            if stop_answered is not None or nothing_to_wait or now - stop_started >= args.stop_wait:
                break

        if now >= next_status:
            emit("status", **counters(h))
            next_status = now + args.status_every
        ses.wait_for_alert(100)

    final = counters(h)
    emit("final", stopped_announced=stop_announced, stopped_answered=bool(stop_answered), stop_error=stop_error, **final)
    # The session's destructor would announce `stopped` again for torrents still running;
    # this one is paused, so it only tears down.
    del h
    del ses
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
