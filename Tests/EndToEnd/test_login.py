"""Issue 17: logging in to what you booted. Root's password (a given hash, or a file hashed
at convert time), SSH keys for root or a login user created in the image's account files,
a cloud-init NoCloud seed partition, and a root that grows to its disk at boot. What these
options write is read back from the disk with independent tools (debugfs, mtools, blkid,
fsck.fat, e2fsck, Python's crypt); the growth is seen from inside a booted guest. The
password login itself is tested on the Debian system image (test_boot.py)."""

import hashlib
import json
import subprocess
import tempfile
import warnings
from pathlib import Path

import pytest

import boot
import e2e
import ocilayout
from tarbuild import Layer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # the host's libcrypt: an independent check of the hashes written

KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMvS4d+HHfdpLqEUJPGyaEl1Q/3m7oO1PXmODyIOq8Ux one@host\n"
KEY2 = "# a comment line\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 two@host"
PASSWORD = "correct-horse-battery"


def debian_like_image(work, tag="sys"):
    """busybox with /sbin/init plus Debian's account files: shadow (0640 root:shadow) and
    login.defs asking for yescrypt."""
    top = Layer()
    top.file("etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", mode=0o640, gid=42)
    top.file("etc/group", "root:x:0:\nshadow:x:42:\n")
    top.file("etc/login.defs", "# login.defs\nENCRYPT_METHOD YESCRYPT\n")
    with tempfile.TemporaryDirectory(prefix="bb-") as tmp:
        base = Path(tmp) / "busybox.tar"
        ocilayout.busybox_layer_tar(str(base))
        extra = Path(tmp) / "accounts.tar"
        top.write(extra)
        ocilayout.build_layout(work / "layout", [str(base), str(extra)], tag=tag, config={"Cmd": ["/bin/sh"]})
    return f"oci:{work / 'layout'}:{tag}"


def write(path, text):
    path.write_text(text)
    return path


def entries(disk, partition=2):
    report = e2e.inspect_json(disk, "--files")
    fs = report["partitions"][partition - 1]["filesystem"]
    return {e["path"]: e for e in fs["entries"]}


def root_offset(disk):
    return next(p["start"] for p in e2e.parse_mbr(disk) if p["type"] == 0x83)


def test_keys_a_login_user_and_a_hashed_password_are_in_the_disk(work):
    source = debian_like_image(work)
    keys = [write(work / "one.pub", KEY1), write(work / "two.pub", KEY2)]
    pw = write(work / "password", PASSWORD + "\nsecond line is not part of it\n")
    args = ["--login-user", "app", "--root-password-file", pw, "--ssh-authorized-key", keys[0], "--ssh-authorized-key", keys[1]]
    disk = work / "disk.img"
    e2e.convert(source, disk, *args, "--no-kernel")
    offset = root_offset(disk)
    e2e.e2fsck(disk, offset)

    shadow = e2e.debugfs_cat(disk, "/etc/shadow", offset).decode()
    root = shadow.splitlines()[0].split(":")
    assert root[1].startswith("$y$"), shadow  # as the image's login.defs asks
    assert crypt.crypt(PASSWORD, root[1]) == root[1], "the hash does not verify with the host's libcrypt"
    assert "daemon:*:19000:0:99999:7:::" in shadow and "\napp:*:" in shadow, shadow
    passwd = e2e.debugfs_cat(disk, "/etc/passwd", offset).decode()
    assert passwd.startswith("root:x:0:0:root:/root:/bin/sh\n") and "app:x:1000:1000::/home/app:/bin/sh\n" in passwd, passwd
    assert "app:x:1000:\n" in e2e.debugfs_cat(disk, "/etc/group", offset).decode()
    keys_text = e2e.debugfs_cat(disk, "/home/app/.ssh/authorized_keys", offset).decode()
    assert keys_text == KEY1 + KEY2.splitlines()[1] + "\n", keys_text

    files = entries(disk, partition=1)
    for path, mode in [("/home/app", 0o700), ("/home/app/.ssh", 0o700), ("/home/app/.ssh/authorized_keys", 0o600)]:
        assert (files[path]["mode"], files[path]["uid"], files[path]["gid"]) == (mode, 1000, 1000), files[path]
    assert (files["/etc/shadow"]["mode"], files["/etc/shadow"]["gid"]) == (0o640, 42), "the account file lost its mode"

    # The password itself is nowhere on the disk.
    with open(disk, "rb") as f:
        while chunk := f.read(1 << 24):
            assert PASSWORD.encode() not in chunk

    # Reproducible, and the options add only these files: without them the disk is the image's.
    again = work / "again.img"
    e2e.convert(source, again, *args, "--no-kernel")
    assert e2e.file_sha256(again) == e2e.file_sha256(disk)
    plain = work / "plain.img"
    e2e.convert(source, plain, "--no-kernel")
    plain_files = entries(plain, partition=1)
    added = set(files) - set(plain_files)
    assert added == {"/home", "/home/app", "/home/app/.ssh", "/home/app/.ssh/authorized_keys"}, added


def test_without_shadow_the_given_hash_goes_into_passwd_and_root_gets_the_keys(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/sh"]})  # passwd and group only
    hashed = crypt.crypt("pw", crypt.mksalt(crypt.METHOD_SHA512))
    disk = work / "disk.img"
    e2e.convert(source, disk, "--root-password-hash", hashed, "--ssh-authorized-key", write(work / "k.pub", KEY1), "--no-kernel")
    passwd = e2e.debugfs_cat(disk, "/etc/passwd", e2e.PART_OFFSET).decode()
    assert passwd == f"root:{hashed}:0:0:root:/root:/bin/sh\n", passwd
    assert e2e.debugfs_cat(disk, "/root/.ssh/authorized_keys", e2e.PART_OFFSET).decode() == KEY1
    files = entries(disk, partition=1)
    assert (files["/root/.ssh/authorized_keys"]["mode"], files["/root/.ssh/authorized_keys"]["uid"]) == (0o600, 0)
    assert files["/root"]["mode"] == 0o700, "the image's own /root was replaced"


@pytest.mark.parametrize("case", ["missing-key", "private-key", "not-a-key", "short-hash", "des-hash", "colon-in-hash",
                                  "bad-user", "empty-password", "no-passwd", "app-mode"])
def test_bad_login_input_is_one_clear_line(work, case):
    source = debian_like_image(work)
    private = write(work / "id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    extra, mentions, bootable = {
        "missing-key": (["--ssh-authorized-key", str(work / "nope.pub")], ["nope.pub", "no such file"], False),
        "private-key": (["--ssh-authorized-key", str(private)], ["id_ed25519", "private key"], False),
        "not-a-key": (["--ssh-authorized-key", str(write(work / "x.pub", "hello world\n"))], ["x.pub", "not an OpenSSH public key"], False),
        "short-hash": (["--root-password-hash", "$6$salt$tooshort"], ["--root-password-hash", "malformed"], False),
        "des-hash": (["--root-password-hash", "abJnggxhB/yWI"], ["--root-password-hash", "yescrypt"], False),
        "colon-in-hash": (["--root-password-hash", "$6$a:b"], ["--root-password-hash", "':'"], False),
        "bad-user": (["--login-user", "Root:0"], ["--login-user", "not a valid user name"], False),
        "empty-password": (["--root-password-file", str(write(work / "empty", "\n"))], ["empty"], False),
        "no-passwd": (["--root-password-hash", crypt.crypt("x", crypt.mksalt(crypt.METHOD_SHA512))], ["/etc/passwd"], False),
        "app-mode": (["--login-user", "app", "--init", "app"], ["--login-user", "app mode"], True),
    }[case]
    if case == "no-passwd":
        Layer().file("bin/true", b"\x7fELF").write(work / "l.tar")
        ocilayout.build_layout(work / "bare", [str(work / "l.tar")], tag="x", config={"Cmd": ["/bin/true"]})
        source = f"oci:{work / 'bare'}:x"
    e2e.assert_convert_fails(source, work, mentions=mentions, extra=[*extra, *([] if bootable else ["--no-kernel"])], bootable=bootable)


def test_a_cloud_init_seed_partition_reads_back_with_mtools(work):
    source = debian_like_image(work)
    seed = work / "seed"
    seed.mkdir()
    user_data = "#cloud-config\nhostname: seeded\nruncmd:\n  - [echo, seeded]\n"
    write(seed / "user-data", user_data)
    write(seed / "meta-data", "instance-id: i-1\nlocal-hostname: seeded\n")
    write(seed / "network-config", "version: 2\n")
    write(seed / "ignored.txt", "not a NoCloud file\n")
    disk = work / "disk.img"
    r = e2e.convert(source, disk, "--cloud-init", seed, "--no-kernel")
    warning = [l for l in r.stderr.decode().splitlines() if "warning:" in l]
    assert len(warning) == 1 and "no cloud-init" in warning[0], r.stderr  # the image has none

    parts = e2e.parse_mbr(disk)
    assert [p["type"] for p in parts][0] == 0x83 and len(parts) == 2, parts
    root, cidata = parts
    assert cidata["start"] < root["start"], "the root must stay last, so it can grow"
    assert e2e.blkid(disk, cidata["start"]).get("LABEL") == "CIDATA"
    spec = f"{disk}@@{cidata['start']}"
    listing = subprocess.run(["mdir", "-b", "-i", spec, "::"], capture_output=True, text=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    assert sorted(Path(l).name for l in listing.stdout.split()) == ["meta-data", "network-config", "user-data"], listing.stdout
    got = subprocess.run(["mtype", "-i", spec, "::/user-data"], capture_output=True, text=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    assert got.stdout == user_data
    # fsck.fat on the partition alone.
    part = work / "cidata.fat"
    with open(disk, "rb") as f, open(part, "wb") as out:
        f.seek(cidata["start"])
        out.write(f.read(cidata["size"]))
    fsck = subprocess.run(["fsck.fat", "-n", part], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    e2e.e2fsck(disk, root["start"])
    e2e.convert(source, work / "again.img", "--cloud-init", seed, "--no-kernel")
    assert e2e.file_sha256(work / "again.img") == e2e.file_sha256(disk)


@pytest.mark.parametrize("case", ["no-folder", "no-user-data", "link", "bare-ext4"])
def test_bad_cloud_init_input_is_one_clear_line(work, case):
    source = debian_like_image(work)
    seed = work / "seed"
    seed.mkdir()
    write(seed / "meta-data", "instance-id: i-1\n")
    if case == "link":
        (seed / "user-data").symlink_to("/etc/passwd")
    elif case != "no-user-data":
        write(seed / "user-data", "#cloud-config\n")
    folder = work / "nope" if case == "no-folder" else seed
    mentions = {"no-folder": ["nope", "no such folder"], "no-user-data": ["user-data is missing"], "link": ["user-data", "not a regular file"],
                "bare-ext4": ["--cloud-init", "--format ext4"]}[case]
    if case == "bare-ext4":
        r = e2e.run([e2e.binary_path(), "convert", source, "-o", work / "x.ext4", "--format", "ext4", "--cloud-init", folder])
        assert r.returncode != 0 and all(m in r.stderr.decode() for m in mentions) and not (work / "x.ext4").exists(), e2e._show(r)
        return
    e2e.assert_convert_fails(source, work, mentions=mentions, extra=["--cloud-init", str(folder), "--no-kernel"])


def test_grow_root_fills_a_resized_disk_at_boot_and_only_once(work):
    """App mode: the init grows the partition and the ext4 before the command runs."""
    boot.need_boot_tools()
    source = boot.busybox_image(work / "layout", {"Entrypoint": ["/bin/busybox"], "Cmd": ["true"]})
    disk = work / "disk.img"
    e2e.convert(source, disk, "--grow-root", "--size", "300M", bootable=True)
    before = e2e.parse_mbr(disk)
    r = subprocess.run(["qemu-img", "resize", "-f", "raw", disk, "1G"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    def df():
        r = e2e.run([e2e.binary_path(), "run", disk, "--persist", "--timeout", "200", "--", "df", "-k", "/"], timeout=240)
        assert r.returncode == 0, e2e._show(r)
        line = [l for l in r.stdout.decode().splitlines() if l.endswith(" /")][0]
        return int(line.split()[1])

    first = df()
    assert first > 900_000, f"the root has {first} KiB after growing to a 1 GiB disk"
    after = e2e.parse_mbr(disk)
    root = after[1]
    assert before[0] == after[0] and root["start"] == before[1]["start"], (before, after)
    assert root["start"] + root["size"] == 1 << 30, f"the root partition ends at {root['start'] + root['size']}"
    e2e.e2fsck(disk, root["start"])
    assert df() == first
    assert e2e.parse_mbr(disk) == after
    e2e.e2fsck(disk, root["start"])


def test_grow_root_needs_the_init(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", work / "x.img", "--grow-root", "--no-kernel"])
    assert r.returncode != 0 and "--no-kernel" in r.stderr.decode() and not (work / "x.img").exists(), e2e._show(r)
