"""The zip container of PyTorch's file format, written record by record.

PyTorch writes its archives with miniz, and a file is only "as torch.save
writes it" if the container matches too: records are stored (never
compressed), each local header carries an ``FB`` extra field of ``Z`` padding
so that the record's data starts on a 64-byte boundary (torch maps storages
straight from the file that way), sizes and CRC follow each record in a data
descriptor, and the archive always ends with a zip64 end-of-directory record.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

ALIGNMENT = 64
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<4sIII")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")
_UTF8_NAMES = 0x0800
_DESCRIPTOR_FOLLOWS = 0x0008  # miniz writes one after every non-empty record
_U32 = 0xFFFFFFFF


class ZipRecordWriter:
    """Writes records to ``stream`` (any object with ``write``), keeping the
    central directory until ``finish``. Records and the archive stay below
    4 GiB: larger ones would need zip64 local fields, which are not written."""

    def __init__(self, stream: IO[bytes], archive_name: str) -> None:
        self._stream = stream
        self._prefix = archive_name + "/"
        self._offset = 0
        self._central: list[tuple[bytes, int, int, int, int]] = []

    def _write(self, data: bytes | memoryview) -> None:
        self._stream.write(data)
        self._offset += len(data)

    def write_record(self, name: str, data: bytes | memoryview) -> None:
        full = (self._prefix + name).encode("utf-8")
        size = len(data)
        if size >= _U32 or self._offset >= _U32:
            raise RuntimeError(
                f"gdlite.save writes records and archives below 4 GiB; record {name!r} "
                f"({size} bytes at offset {self._offset}) is too large"
            )
        start = self._offset + _LOCAL_HEADER.size + len(full) + 4
        pad = -start % ALIGNMENT
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        header_offset = self._offset
        flags = _UTF8_NAMES | (_DESCRIPTOR_FOLLOWS if size else 0)
        self._write(
            _LOCAL_HEADER.pack(
                b"PK\x03\x04", 0, flags, 0, 0, 0, 0, 0, 0, len(full), len(extra)
            )
        )
        self._write(full)
        self._write(extra)
        crc = zlib.crc32(data)
        if size:
            self._write(data)
            self._write(_DESCRIPTOR.pack(b"PK\x07\x08", crc, size, size))
        self._central.append((full, flags, crc, size, header_offset))

    def finish(self) -> None:
        directory_offset = self._offset
        for full, flags, crc, size, header_offset in self._central:
            self._write(
                _CENTRAL_HEADER.pack(
                    b"PK\x01\x02",
                    0,
                    0,
                    flags,
                    0,
                    0,
                    0,
                    crc,
                    size,
                    size,
                    len(full),
                    0,
                    0,
                    0,
                    0,
                    0,
                    header_offset,
                )
            )
            self._write(full)
        directory_size = self._offset - directory_offset
        count = len(self._central)
        zip64_offset = self._offset
        self._write(
            _ZIP64_END.pack(
                b"PK\x06\x06",
                _ZIP64_END.size - 12,
                0x031E,
                0x2D,
                0,
                0,
                count,
                count,
                directory_size,
                directory_offset,
            )
        )
        self._write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_offset, 1))
        self._write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                count,
                count,
                directory_size,
                min(directory_offset, _U32),
                0,
            )
        )
