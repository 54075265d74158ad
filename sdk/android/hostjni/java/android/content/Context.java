// Host-only stand-in so the generated go/Seq.java compiles on a plain JDK
// (sdk/android/hostjni). Never shipped: the .aar compiles against android.jar.
package android.content;

public abstract class Context {}
