//! The data-path calls of an `XskPort` (`xskRx`, `xskFill`, `xskTx`, `xskComplete`): plain
//! N-API functions of two integers, the port's handle and a count, returning an integer.
//!
//! A worker makes up to five of them per loop pass, and napi-rs's generated glue cost more than
//! the ring work: a class method takes a reference to `this` and records a native borrow, and any
//! function with arguments opens a borrow scope (thread-local state, a lock, allocations) for
//! values it might lend to async work. These take only numbers and lend nothing, so they are
//! written against N-API directly: read two u32 arguments, call, return a u32.

use std::ptr;

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{sys, JsError, Object};
use napi::JsValue;
use napi_derive::napi;

use crate::error::{err, Result};
use crate::port;

type DataPathOp = fn(u32, u32) -> Result<u32>;

/// Reads the call's `(handle, count)`; EINVAL unless both are numbers.
///
/// # Safety
/// `env` and `info` must be the ones N-API passed to the running callback.
unsafe fn two_u32_args(env: sys::napi_env, info: sys::napi_callback_info) -> Result<(u32, u32)> {
    let mut argc = 2usize;
    let mut argv = [ptr::null_mut(); 2];
    let mut a = 0u32;
    let mut b = 0u32;
    // SAFETY: argv has room for argc values; the rest are out-parameters on the stack.
    let ok = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        ) == sys::Status::napi_ok
            && argc >= 2
            && sys::napi_get_value_uint32(env, argv[0], &mut a) == sys::Status::napi_ok
            && sys::napi_get_value_uint32(env, argv[1], &mut b) == sys::Status::napi_ok
    };
    if ok {
        Ok((a, b))
    } else {
        Err(err(
            "EINVAL",
            "the port's data-path calls take (handle, count), two non-negative integers",
        ))
    }
}

/// Runs `op` on the call's arguments; returns its result as a JS number or throws its error.
///
/// # Safety
/// As for [`two_u32_args`].
unsafe fn call(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    op: DataPathOp,
) -> sys::napi_value {
    // SAFETY: forwarded from our caller.
    let result = unsafe { two_u32_args(env, info) }.and_then(|(handle, count)| op(handle, count));
    match result {
        Ok(n) => {
            let mut value = ptr::null_mut();
            // SAFETY: `value` is an out-parameter; on failure it stays null, which N-API
            // returns to JS as undefined.
            unsafe { sys::napi_create_uint32(env, n, &mut value) };
            value
        }
        Err(e) => {
            // SAFETY: `env` is live for this callback; throwing leaves a pending exception that
            // N-API raises in JS when we return.
            unsafe { JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn xsk_rx(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API calls us with a live env and this call's info.
    unsafe { call(env, info, port::rx_by_handle) }
}

unsafe extern "C" fn xsk_fill(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: as in xsk_rx.
    unsafe { call(env, info, port::fill_by_handle) }
}

unsafe extern "C" fn xsk_tx(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: as in xsk_rx.
    unsafe { call(env, info, port::tx_by_handle) }
}

unsafe extern "C" fn xsk_complete(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: as in xsk_rx.
    unsafe { call(env, info, port::complete_by_handle) }
}

/// Adds the four functions to the addon's exports as it loads (in every thread that loads it).
#[napi(module_exports)]
pub fn export_data_path(mut exports: Object) -> napi::Result<()> {
    let functions: [(&str, sys::napi_callback); 4] = [
        ("xskRx", Some(xsk_rx)),
        ("xskFill", Some(xsk_fill)),
        ("xskTx", Some(xsk_tx)),
        ("xskComplete", Some(xsk_complete)),
    ];
    let env = exports.value().env;
    for (name, callback) in functions {
        let mut f = ptr::null_mut();
        // SAFETY: `exports.env` is the loading env; the name is passed with its length, so it
        // needs no terminating NUL; `f` is an out-parameter.
        let status = unsafe {
            sys::napi_create_function(
                env,
                name.as_ptr().cast(),
                name.len() as isize,
                callback,
                ptr::null_mut(),
                &mut f,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!("could not create {name}")));
        }
        // SAFETY: `f` is the function value N-API just created in this env.
        let value = unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env, f) };
        exports.set_named_property(name, value)?;
    }
    Ok(())
}
