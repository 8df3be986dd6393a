"""tshark as the tests' oracle: the fields of every packet a display filter keeps, one dict per
packet (field name -> text as tshark prints it; several occurrences joined by ',')."""
import subprocess


def tshark_fields(capture, fields, display_filter="tcp", options=()):
    cmd = ["tshark", "-n", "-r", capture, "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,", *options]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [dict(zip(fields, line.split("\t"))) for line in out.splitlines()]
