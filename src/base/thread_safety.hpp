// Clang's thread-safety analysis (-Wthread-safety, an error in every clang
// build): which lock guards which data, and which functions must hold it,
// checked at compile time. Other compilers see nothing. Attributes can only
// be spelled as macros; these are the only ones the code uses.
#pragma once

#if defined(__clang__)
#define RULLOC_TSA(attribute) __attribute__((attribute))
#else
#define RULLOC_TSA(attribute)
#endif

#define RULLOC_CAPABILITY(name) RULLOC_TSA(capability(name))
#define RULLOC_SCOPED_CAPABILITY RULLOC_TSA(scoped_lockable)
#define RULLOC_GUARDED_BY(lock) RULLOC_TSA(guarded_by(lock))
#define RULLOC_REQUIRES(...) RULLOC_TSA(requires_capability(__VA_ARGS__))
#define RULLOC_ACQUIRE(...) RULLOC_TSA(acquire_capability(__VA_ARGS__))
#define RULLOC_RELEASE(...) RULLOC_TSA(release_capability(__VA_ARGS__))
#define RULLOC_TRY_ACQUIRE(...) RULLOC_TSA(try_acquire_capability(__VA_ARGS__))
// For code whose locking the analysis cannot follow (a lock per element of
// an array taken in a loop, as around fork()); each use says why.
#define RULLOC_NO_LOCK_ANALYSIS RULLOC_TSA(no_thread_safety_analysis)
