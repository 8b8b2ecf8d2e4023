"""Reading PyTorch's zip container defensively.

Every size the archive declares is checked against the bytes the file
actually holds before anything is read or allocated: records must lie inside
the file without overlapping (overlapping entries are how zip bombs multiply
one compressed stream), compressed records may not claim more than deflate
can produce from their compressed bytes, and a record is read to at most its
declared size, which must then be what arrived (the CRC is checked too).
Every failure is a RuntimeError naming the record, in the wording of torch's
own reader ("PytorchStreamReader failed reading zip archive: ...").
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import IO

# Deflate's best ratio is 1032:1; more than that can only be a lie.
_DEFLATE_MAX_RATIO = 1032
_LOCAL_HEADER_SIZE = 30
# The header pickled by torch.save's legacy (pre-1.6) format: its magic number.
_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
# What a damaged archive can make zipfile raise.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    struct.error,
    ValueError,
    NotImplementedError,
    OverflowError,
    KeyError,
    IndexError,
    zlib.error,
    UnicodeDecodeError,
)


def _failure(what: str) -> RuntimeError:
    return RuntimeError(f"PytorchStreamReader failed reading zip archive: {what}")


class Archive:
    """The records of one PyTorch archive in a seekable binary file."""

    def __init__(self, stream: IO[bytes]) -> None:
        start = stream.tell()
        head = stream.read(len(_LEGACY_MAGIC))
        stream.seek(start)
        if head.startswith(_LEGACY_MAGIC):
            raise RuntimeError(
                "This file was written in PyTorch's legacy format (PyTorch before "
                "1.6, or torch.save(..., _use_new_zipfile_serialization=False)); "
                "gdlite.load reads only the zip-based format. Load it with torch.load "
                "and save it again with torch.save to convert it."
            )
        if not head.startswith(b"PK\x03\x04"):
            raise _failure(
                "failed finding central directory (this is not a file written by "
                "torch.save or gdlite.save)"
            )
        self._length = stream.seek(0, 2)
        stream.seek(start)
        try:
            self._zip = zipfile.ZipFile(stream)
            infos = self._zip.infolist()
        except _ZIP_ERRORS as e:
            raise _failure(f"failed finding central directory ({e})") from None
        if not infos:
            raise _failure("the archive holds no records")
        self.prefix = infos[0].filename.split("/", 1)[0] + "/"
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            self._check_entry(info)
        self._check_no_overlap(infos)

    def _check_entry(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if name in self._infos:
            raise _failure(f"record {name} appears twice")
        if info.flag_bits & 0x1:
            raise _failure(f"record {name} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _failure(
                f"record {name} uses unsupported compression {info.compress_type}"
            )
        if (
            info.compress_type == zipfile.ZIP_STORED
            and info.compress_size != info.file_size
        ):
            raise _failure(
                f"stored record {name} declares {info.file_size} bytes but holds "
                f"{info.compress_size}"
            )
        if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64:
            raise _failure(
                f"record {name} claims {info.file_size} bytes from "
                f"{info.compress_size} compressed bytes, more than deflate can produce "
                "(a zip bomb?)"
            )
        end = info.header_offset + _LOCAL_HEADER_SIZE + len(name) + info.compress_size
        if info.header_offset < 0 or end > self._length:
            raise _failure(
                f"record {name} extends past the end of the file (truncated?)"
            )
        self._infos[name] = info

    def _check_no_overlap(self, infos: list[zipfile.ZipInfo]) -> None:
        spans = sorted(
            (
                i.header_offset,
                i.header_offset + _LOCAL_HEADER_SIZE + i.compress_size,
                i.filename,
            )
            for i in infos
        )
        for (_, end, name), (begin, _, other) in zip(spans, spans[1:], strict=False):
            if begin < end:
                raise _failure(f"records {name} and {other} overlap")

    def has(self, name: str) -> bool:
        return self.prefix + name in self._infos

    def size(self, name: str) -> int:
        return self._info(name).file_size

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(self.prefix + name)
        if info is None:
            raise _failure(f"file not found: {self.prefix}{name}")
        return info

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The record's bytes; refuses records larger than ``limit``."""
        info = self._info(name)
        if limit is not None and info.file_size > limit:
            raise _failure(
                f"record {info.filename} holds {info.file_size} bytes, more than the "
                f"{limit} expected"
            )
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size)
                if len(data) == info.file_size and member.read(1):
                    raise _failure(f"record {info.filename} is longer than declared")
        except _ZIP_ERRORS as e:
            raise _failure(f"failed reading record {info.filename} ({e})") from None
        if len(data) != info.file_size:
            raise _failure(
                f"record {info.filename} holds {len(data)} of its {info.file_size} "
                "bytes (truncated?)"
            )
        return data

    def close(self) -> None:
        self._zip.close()
