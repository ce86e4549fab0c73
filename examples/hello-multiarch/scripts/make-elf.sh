#!/usr/bin/env bash
# Writes a tiny static Linux executable to stdout, byte by byte, for the hello-runtime stand-in
# dependency: it writes MESSAGE and a newline to standard output and exits 0.
#
#   scripts/make-elf.sh amd64|arm64 MESSAGE >FILE
#
# No assembler or compiler is needed, so the bytes depend only on this script. The file is a 64-bit
# little-endian ELF executable holding one loadable segment (the whole file, read + execute, at
# 0x400000) and no section headers:
#
#   offset 0    ELF header (64 bytes)
#   offset 64   the program header (56 bytes)
#   offset 120  the code: write(1, message, length), then exit(0), through raw system calls
#   after it    the message and its newline
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: make-elf.sh amd64|arm64 MESSAGE >FILE" >&2
  exit 2
fi
arch=$1
message="$2"$'\n'
# ${#message} counts characters; the stand-in's message is ASCII, so characters are bytes.
if ! LC_ALL=C grep -q '^[ -~]*$' <<<"$2"; then
  echo "make-elf.sh: MESSAGE must be printable ASCII" >&2
  exit 2
fi
length=${#message}

base=$((0x400000)) # where the segment is loaded
code_offset=120    # right after the two headers

# le BYTES VALUE: VALUE as BYTES little-endian bytes, printed as raw bytes.
le() {
  local bytes=$1 value=$2 i hex
  for ((i = 0; i < bytes; i++)); do
    printf -v hex %02x $(((value >> (8 * i)) & 0xff))
    printf '%b' "\\x$hex"
  done
}

# The machine code, as little-endian words. Each architecture's code is the same program.
case "$arch" in
  amd64)
    machine=62 # EM_X86_64
    code_length=31
    message_address=$((base + code_offset + code_length))
    code() {
      printf '\xb8'; le 4 1                  # mov eax, 1          (write)
      printf '\xbf'; le 4 1                  # mov edi, 1          (standard output)
      printf '\xbe'; le 4 "$message_address" # mov esi, message
      printf '\xba'; le 4 "$length"          # mov edx, length
      printf '\x0f\x05'                      # syscall
      printf '\xb8'; le 4 60                 # mov eax, 60         (exit)
      printf '\x31\xff'                      # xor edi, edi        (status 0)
      printf '\x0f\x05'                      # syscall
    }
    ;;
  arm64)
    machine=183 # EM_AARCH64
    code_length=32
    # A64 instructions are 32-bit words. movz Xd, #imm is 0xd2800000 | imm << 5 | d; svc #0 is
    # 0xd4000001; adr Xd, label is 0x10000000 | (offset & 3) << 29 | (offset >> 2) << 5 | d,
    # with offset counted from the adr itself.
    movz() { le 4 $((0xd2800000 | ($2 << 5) | $1)); }
    adr() { le 4 $((0x10000000 | (($2 & 3) << 29) | (($2 >> 2) << 5) | $1)); }
    code() {
      movz 0 1                                         # mov x0, #1     (standard output)
      adr 1 $((code_length - 4))                       # adr x1, message (from offset 4)
      movz 2 "$length"                                 # mov x2, #length
      movz 8 64                                        # mov x8, #64    (write)
      le 4 $((0xd4000001))                             # svc #0
      movz 0 0                                         # mov x0, #0     (status 0)
      movz 8 93                                        # mov x8, #93    (exit)
      le 4 $((0xd4000001))                             # svc #0
    }
    ;;
  *)
    echo "make-elf.sh: unknown architecture \"$arch\" (amd64 or arm64)" >&2
    exit 2
    ;;
esac
size=$((code_offset + code_length + length))

{
  # ELF header: magic, 64-bit, little-endian, version 1, System V ABI, padding.
  printf '\x7fELF\x02\x01\x01\x00'; le 8 0
  le 2 2                               # e_type: an executable
  le 2 "$machine"                      # e_machine
  le 4 1                               # e_version
  le 8 $((base + code_offset))         # e_entry: the first instruction
  le 8 64                              # e_phoff: program headers right after this header
  le 8 0                               # e_shoff: no section headers
  le 4 0                               # e_flags
  le 2 64                              # e_ehsize
  le 2 56                              # e_phentsize
  le 2 1                               # e_phnum
  le 2 0; le 2 0; le 2 0               # e_shentsize, e_shnum, e_shstrndx: no sections
  # The program header: one PT_LOAD segment mapping the whole file.
  le 4 1                               # p_type: PT_LOAD
  le 4 5                               # p_flags: read + execute
  le 8 0                               # p_offset
  le 8 "$base"                         # p_vaddr
  le 8 "$base"                         # p_paddr
  le 8 "$size"                         # p_filesz
  le 8 "$size"                         # p_memsz
  le 8 $((0x1000))                     # p_align
  code
  printf '%s' "$message"
}
