// powerlossfs: a FUSE filesystem, held in memory, that loses every byte not fsynced when it is told
// the power went off. It stands in for a disk under a page cache so a test can tell Redis's
// appendfsync settings apart: a kill -9 keeps unsynced writes (the kernel still has them), a power
// loss does not.
//
//	powerlossfs MOUNTPOINT
//
// prints "mounted" once the mount is up. SIGUSR1 is the power going off and back on: every file's
// content goes back to what it held at its last fsync (or fdatasync), or to empty if it never had
// one, and it prints "power off: N files, M unsynced bytes dropped". SIGTERM or SIGINT unmounts.
//
// What it models, and what not: file data is durable only once fsynced. Names (create, rename,
// unlink, mkdir) are durable at once, as a journaling filesystem that commits metadata in order
// would keep them; Redis fsyncs its files before it renames them, and the folder after, anyway.
// Page cache: files are opened with direct I/O, so every read and write reaches this process and
// nothing the kernel cached can outlive a power off.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// disk holds every file ever created, to roll them all back on a power off.
type disk struct {
	mu    sync.Mutex
	files []*file
}

// powerOff rolls every file back to its last fsync; returns the files and bytes that changed.
func (d *disk) powerOff() (files int, dropped int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files {
		if lost := f.rollBack(); lost >= 0 {
			files++
			dropped += lost
		}
	}
	return files, dropped
}

// dir is a folder: its children live in the go-fuse inode tree; every change to it is durable at once.
type dir struct {
	fs.Inode
	disk *disk
}

var (
	_ fs.NodeCreater   = (*dir)(nil)
	_ fs.NodeMkdirer   = (*dir)(nil)
	_ fs.NodeUnlinker  = (*dir)(nil)
	_ fs.NodeRmdirer   = (*dir)(nil)
	_ fs.NodeRenamer   = (*dir)(nil)
	_ fs.NodeFsyncer   = (*dir)(nil)
	_ fs.NodeGetattrer = (*dir)(nil)
	_ fs.NodeSetattrer = (*dir)(nil)
)

func (d *dir) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o755
	return fs.OK
}

func (d *dir) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return d.Getattr(ctx, fh, out)
}

func (d *dir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	f := &file{mode: mode & 0o7777, mtime: time.Now()}
	d.disk.mu.Lock()
	d.disk.files = append(d.disk.files, f)
	d.disk.mu.Unlock()
	child := d.NewPersistentInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG})
	f.attr(&out.Attr)
	return child, nil, fuse.FOPEN_DIRECT_IO, fs.OK
}

func (d *dir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	child := d.NewPersistentInode(ctx, &dir{disk: d.disk}, fs.StableAttr{Mode: syscall.S_IFDIR})
	out.Mode = syscall.S_IFDIR | 0o755
	return child, fs.OK
}

// The inode tree applies these once they return OK.
func (d *dir) Unlink(ctx context.Context, name string) syscall.Errno { return fs.OK }
func (d *dir) Rmdir(ctx context.Context, name string) syscall.Errno  { return fs.OK }
func (d *dir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return fs.OK
}
func (d *dir) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno { return fs.OK }

// file is a regular file: `data` is what reads see (the page cache), `synced` what the disk holds.
// `dirtyFrom` is the lowest offset changed since the last fsync (clean: len(data) or more), so an
// fsync copies only what changed: Redis's strict mode fsyncs after every append.
type file struct {
	fs.Inode
	mu        sync.Mutex
	data      []byte
	synced    []byte
	dirtyFrom int
	mode      uint32
	mtime     time.Time
}

func (f *file) dirty(from int) {
	if from < f.dirtyFrom {
		f.dirtyFrom = from
	}
}

var (
	_ fs.NodeOpener    = (*file)(nil)
	_ fs.NodeReader    = (*file)(nil)
	_ fs.NodeWriter    = (*file)(nil)
	_ fs.NodeFsyncer   = (*file)(nil)
	_ fs.NodeFlusher   = (*file)(nil)
	_ fs.NodeGetattrer = (*file)(nil)
	_ fs.NodeSetattrer = (*file)(nil)
)

func (f *file) attr(out *fuse.Attr) {
	out.Mode = syscall.S_IFREG | f.mode
	out.Size = uint64(len(f.data))
	out.Blocks = (out.Size + 511) / 512
	out.SetTimes(nil, &f.mtime, &f.mtime)
}

// rollBack makes the file what it was at its last fsync; returns how many bytes that changed, or -1 if none.
func (f *file) rollBack() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if string(f.data) == string(f.synced) {
		return -1
	}
	// Bytes that differ, and bytes past the shorter of the two.
	lost := max(len(f.data), len(f.synced)) - min(len(f.data), len(f.synced))
	for i := range min(len(f.data), len(f.synced)) {
		if f.data[i] != f.synced[i] {
			lost++
		}
	}
	f.data = append([]byte(nil), f.synced...)
	f.dirtyFrom = len(f.data)
	return lost
}

func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_TRUNC != 0 {
		f.mu.Lock()
		f.data = f.data[:0]
		f.dirty(0)
		f.mtime = time.Now()
		f.mu.Unlock()
	}
	return nil, fuse.FOPEN_DIRECT_IO, fs.OK
}

func (f *file) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), fs.OK
	}
	end := off + int64(len(dest))
	if end > int64(len(f.data)) {
		end = int64(len(f.data))
	}
	return fuse.ReadResultData(append([]byte(nil), f.data[off:end]...)), fs.OK
}

func (f *file) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := off + int64(len(data)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[off:], data)
	f.dirty(int(off))
	f.mtime = time.Now()
	return uint32(len(data)), fs.OK
}

// Fsync (and fdatasync): what the file holds now survives a power off.
func (f *file) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := min(f.dirtyFrom, len(f.synced), len(f.data))
	f.synced = append(f.synced[:keep], f.data[keep:]...)
	f.dirtyFrom = len(f.data)
	return fs.OK
}

func (f *file) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return fs.OK }

func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attr(&out.Attr)
	return fs.OK
}

func (f *file) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		f.dirty(min(int(size), len(f.data)))
		if size <= uint64(len(f.data)) {
			f.data = f.data[:size]
		} else {
			f.data = append(f.data, make([]byte, size-uint64(len(f.data)))...)
		}
		f.mtime = time.Now()
	}
	if mode, ok := in.GetMode(); ok {
		f.mode = mode & 0o7777
	}
	f.attr(&out.Attr)
	return fs.OK
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: powerlossfs MOUNTPOINT")
		os.Exit(2)
	}
	d := &disk{}
	noCache := time.Duration(0)
	server, err := fs.Mount(os.Args[1], &dir{disk: d}, &fs.Options{
		// Attributes and names are asked for every time: sizes change behind the kernel's back on a power off.
		EntryTimeout: &noCache,
		AttrTimeout:  &noCache,
		MountOptions: fuse.MountOptions{FsName: "powerloss", Name: "powerlossfs", DirectMount: true},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "powerlossfs: mount %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range signals {
			if s == syscall.SIGUSR1 {
				files, dropped := d.powerOff()
				fmt.Printf("power off: %d files, %d unsynced bytes dropped\n", files, dropped)
				continue
			}
			if err := server.Unmount(); err != nil {
				fmt.Fprintf(os.Stderr, "powerlossfs: unmount: %v\n", err)
			}
		}
	}()
	fmt.Println("mounted")
	server.Wait()
}
