"""Human-readable text for ``image-info`` (returned as lines; the CLI prints them)."""

from __future__ import annotations

from .model import ImageInfo


def _title(text: str) -> list[str]:
    return ["", text, "=" * len(text)]


def _rev(full: int) -> str:
    return f"v{full // 100}.{full % 100}"


def _blk(full: int) -> str:
    return f"{full // 100}.{full % 100}"


def describe(info: ImageInfo, chip_label: str) -> tuple[list[str], list[str]]:
    """``(lines, warnings)``: the report, and the problems found (invalid header codes included)."""
    warnings = []
    lines = _title(f"{chip_label} Image Header")
    lines += [f"Image version: {info.version}", f"Entry point: 0x{info.entry:08x}",
              f"Segments: {info.segment_count}"]
    if info.flash_size_name:
        lines.append(f"Flash size: {info.flash_size_name}")
    else:
        warnings.append(f"Invalid flash size (0x{info.flash_size_freq & 0xF0:02x})")
    if info.flash_freq_name:
        lines.append(f"Flash freq: {info.flash_freq_name}")
    else:
        warnings.append(f"Invalid flash frequency (0x{info.flash_size_freq & 0xF:x})")
    if info.flash_mode_name:
        lines.append(f"Flash mode: {info.flash_mode_name.upper()}")
    else:
        warnings.append(f"Invalid flash mode ({info.flash_mode})")
    ext = info.extended
    if ext is not None:
        wp = f"0x{ext['wp_pin']:x}" + (" (disabled)" if ext["wp_pin_disabled"] else "")
        chip_name = ext["chip_name"] or "unknown chip"
        lines += _title(f"{chip_label} Extended Image Header")
        lines += [
            f"WP pin: {wp}",
            "Flash pins drive settings: " + ", ".join(
                f"{k}: 0x{ext[k]:x}" for k in ("clk_drv", "q_drv", "d_drv", "cs0_drv", "hd_drv", "wp_drv")),
            f"Chip ID: {ext['chip_id']} ({chip_name})",
            f"Minimal chip revision: {_rev(ext['min_rev_full'])}, (legacy min_rev = {ext['min_rev']})",
            f"Maximal chip revision: {_rev(ext['max_rev_full'])}",
        ]
    lines += _title("Segments Information")
    lines += ["Segment   Length   Load addr   File offs  Memory types",
              "-------  -------  ----------  ----------  ------------"]
    for s in info.segments:
        lines.append(f"{s.index:>7}  0x{s.length:05x}  0x{s.addr:08x}  0x{s.file_offset:08x}  "
                     + ", ".join(s.regions))
    lines += _title(f"{chip_label} Image Footer")
    lines.append(f"Checksum: 0x{info.checksum_stored:02x} ("
                 + ("valid" if info.checksum_valid else f"invalid - calculated 0x{info.checksum_calc:02x}") + ")")
    if info.digest_stored is not None:  # the computed digest, as esptool shows it (--json has both)
        lines.append(f"Validation hash: {(info.digest_calc or b'').hex()} "
                     f"({'valid' if info.digest_valid else 'invalid'})")
    app = info.extras.get("app_description")
    if app:
        lines += _title("Application Information")
        lines += [
            f"Project name: {app['project_name']}", f"App version: {app['app_version']}",
            f"Compile time: {app['compile_time']}", f"ELF file SHA256: {app['elf_sha256']}",
            f"ESP-IDF: {app['idf_version']}",
            f"Minimal eFuse block revision: {_blk(app['min_efuse_blk_rev_full'])}",
            f"Maximal eFuse block revision: {_blk(app['max_efuse_blk_rev_full'])}",
            f"Secure version: {app['secure_version']}",
        ]
    boot = info.extras.get("bootloader_description")
    if boot:
        lines += _title("Bootloader Information")
        lines += [f"Bootloader version: {boot['version']}", f"ESP-IDF: {boot['idf_version']}",
                  f"Compile time: {boot['compile_time']}"]
    return lines, warnings + info.warnings
